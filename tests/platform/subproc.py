"""Run the app in a child process with its own environment.

Some settings are read once at import (the MIDDLEWARE list, LOG_FORMAT, the guardrails), so the
only honest way to test them is a fresh interpreter with the environment an operator would set.
The child starts from a minimal environment, never the developer's, so results do not depend on
what happens to be exported in the shell that runs pytest.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

_REQUEST_SCRIPT = r"""
import io, json, sys
from wsgiref.util import setup_testing_defaults

from genxsop.wsgi import application  # the production entry point, as gunicorn loads it

results = []
for spec in json.loads(sys.argv[1]):
    path, _, query = spec["path"].partition("?")
    body = spec.get("body", "").encode("utf-8")
    environ = {
        "REQUEST_METHOD": spec.get("method", "GET"), "PATH_INFO": path, "QUERY_STRING": query,
        "HTTP_HOST": "testserver", "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": spec.get("content_type", "application/octet-stream"),
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
    }
    if spec.get("secure"):
        environ.update({"wsgi.url_scheme": "https", "HTTPS": "on", "SERVER_PORT": "443"})
    for name, value in (spec.get("headers") or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    setup_testing_defaults(environ)
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = int(status.split()[0]), headers

    chunks = application(environ, start_response)
    try:
        content = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    results.append({"status": started["status"], "headers": dict(started["headers"]),
                    "body": content.decode("utf-8", "replace")})
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    json.dump(results, fh)
"""


def base_env(**overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 (only a fallback for a missing HOME)
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "genxsop.settings.base",
        "DJANGO_ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        # Nothing on disk unless a test asks for a database file.
        "DATABASE_URL": "sqlite://:memory:",
        "CACHE_URL": "locmem://subprocess",
    }
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (fixed argv: our interpreter and manage.py)
        [PYTHON, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    def json(self):
        return json.loads(self.body)


@dataclass
class Run:
    answers: list[Answer]
    stdout: str
    stderr: str
    returncode: int


def requests(specs: list[dict], *, env: dict[str, str], tmp_path: Path, timeout: float = 60) -> Run:
    """Call the WSGI application of a fresh process with `specs` (dicts: path, method, headers, secure, body)."""
    out = tmp_path / f"answers-{os.getpid()}-{len(list(tmp_path.iterdir()))}.json"
    proc = subprocess.run(  # noqa: S603 (fixed argv: our interpreter and an inline script)
        [PYTHON, "-c", _REQUEST_SCRIPT, json.dumps(specs), str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    answers = []
    if proc.returncode == 0:
        answers = [Answer(**item) for item in json.loads(out.read_text(encoding="utf-8"))]
    return Run(answers, proc.stdout, proc.stderr, proc.returncode)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session", name="migrated_sqlite_template")
def migrated_sqlite_template_fixture(tmp_path_factory) -> Path:
    """A SQLite file with every migration applied, made once per session (copy it, never use it)."""
    path = tmp_path_factory.mktemp("migrated") / "template.sqlite3"
    env = base_env(DATABASE_URL=sqlite_url(path), CACHE_URL="db://genxsop_cache")
    proc = manage("migrate", "--no-input", "-v0", env=env, timeout=180)
    assert proc.returncode == 0, proc.stderr
    # Settings put SQLite in WAL mode: fold the log into the main file so that one file is a copy.
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.execute("PRAGMA journal_mode=DELETE")
    connection.close()
    return path


@pytest.fixture(name="migrated_sqlite")
def migrated_sqlite_fixture(migrated_sqlite_template, tmp_path) -> Path:
    path = tmp_path / "app.sqlite3"
    shutil.copyfile(migrated_sqlite_template, path)
    return path

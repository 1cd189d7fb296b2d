"""`manage.py serve` runs the web server and the job worker together and stops both (OPS-61)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc"),
]

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  (loopback URL built here)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = predicate()
        except (OSError, ValueError):
            result = None
        if result:
            return result
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) of every live process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name is in parentheses and may hold spaces: split after its closing one.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        table[int(entry.name)] = (int(fields[1]), fields[0])
    return table


def descendants(pid: int) -> set[int]:
    table = process_table()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    table = process_table()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


@pytest.fixture(scope="module")
def serve_env(tmp_path_factory) -> dict:
    """Environment of a throwaway installation on a migrated SQLite file."""
    db = tmp_path_factory.mktemp("serve") / "serve.sqlite3"
    # A minimal environment, not the developer's: the result must not depend on what the shell exports.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(db.parent)),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "genxsop.settings.base",
        "ENVIRONMENT": "development",
        "DATABASE_URL": f"sqlite:///{db}",
        "CACHE_URL": "db://genxsop_cache",  # web and worker share the heartbeat through it
        "READINESS_CHECK_WORKER": "true",
        "LOG_FORMAT": "standard",
        "LOG_LEVEL": "INFO",
    }
    subprocess.run([sys.executable, MANAGE, "migrate", "--noinput", "-v0"], env=env, check=True, timeout=180)  # noqa: S603
    return env


def start_serve(env: dict, port: int) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, MANAGE, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.kill()
    output, _ = process.communicate(timeout=30)
    return output


def test_serve_runs_web_and_worker_and_stops_both_on_sigterm(serve_env):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_serve(serve_env, port)
    try:
        # Given serve is up: the web server answers and the worker cluster reports a heartbeat
        wait_for(lambda: get_json(f"{base}/health")[0] == 200, 60, "/health")
        ready = wait_for(
            lambda: (lambda r: r if r[1]["checks"]["worker"]["alive"] else None)(get_json(f"{base}/ready")),
            20,
            "the worker heartbeat in /ready",
        )
        assert ready[0] == 200
        children = descendants(process.pid)
        commands = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ") for pid in children}
        assert any(b"runserver" in cmd for cmd in commands.values())
        assert any(b"qcluster" in cmd for cmd in commands.values())

        # When it receives SIGTERM
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=40)

        # Then it exits cleanly and no child or grandchild survives
        assert code == 0, stop(process)
        wait_for(lambda: not alive(children), 10, "the children to disappear")
    finally:
        output = stop(process)
    assert "web   |" in output
    assert "worker|" in output


def test_serve_stops_the_web_server_and_fails_when_the_worker_dies(serve_env):
    port = free_port()
    process = start_serve(serve_env, port)
    try:
        wait_for(lambda: get_json(f"http://127.0.0.1:{port}/health")[0] == 200, 60, "/health")
        table = process_table()
        direct = {pid for pid, (parent, _) in table.items() if parent == process.pid}
        worker = next(pid for pid in direct if b"qcluster" in Path(f"/proc/{pid}/cmdline").read_bytes())
        everything = descendants(process.pid)

        # When the worker is killed outright
        os.kill(worker, signal.SIGKILL)

        # Then serve stops the web server too and exits non-zero
        code = process.wait(timeout=40)
        assert code != 0
        wait_for(lambda: not alive(everything), 10, "the children to disappear")
    finally:
        output = stop(process)
    assert "worker exited with code" in output

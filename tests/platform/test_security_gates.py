"""The security gates of OPS-60 (.ci/security): the dependency audit fails closed, the secrets scan's exceptions.

No test here needs a vulnerability database or any other network service: the audit is pointed at a
proxy whose name cannot resolve (.invalid, RFC 2606), so no database is reachable by construction.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
UNREACHABLE = "http://proxy.invalid:3128"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / ".ci" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _audit(tmp_path, **env):
    pinned = tmp_path / "pinned.txt"
    pinned.write_text("Django==5.2.19\n")
    environ = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "security_audit_offline_ok")}
    environ.update(HTTPS_PROXY=UNREACHABLE, HTTP_PROXY=UNREACHABLE, https_proxy=UNREACHABLE, http_proxy=UNREACHABLE)
    environ.update(env)
    return subprocess.run(  # noqa: S603  (our interpreter and our script)
        [sys.executable, str(ROOT / ".ci" / "dependency_audit.py"), "--pinned", str(pinned)],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_an_audit_without_a_vulnerability_database_fails_closed(tmp_path):
    done = _audit(tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout.startswith("dependency audit: FAILED (no vulnerability database reachable: pypi: ")
    assert "passed" not in done.stdout


def test_with_the_offline_opt_in_it_is_reported_as_skipped_never_as_passed(tmp_path):
    done = _audit(tmp_path, SECURITY_AUDIT_OFFLINE_OK="1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("dependency audit: SKIPPED (no vulnerability database reachable: ")
    assert "passed" not in done.stdout


def _report(*dependencies):
    return {"dependencies": list(dependencies), "fixes": []}


def test_a_known_vulnerability_fails_and_names_the_fix(capsys):
    audit = _load("dependency_audit")
    report = _report(
        {"name": "django", "version": "5.2.19", "vulns": []},
        {"name": "requests", "version": "2.0.0", "vulns": [{"id": "PYSEC-0000-1", "fix_versions": ["2.32.5"]}]},
        {"name": "other", "skip_reason": "Dependency not found on PyPI"},
    )
    assert audit._judge(report, "pypi") == 1
    out = capsys.readouterr().out
    assert "requests 2.0.0: PYSEC-0000-1 (fixed in: 2.32.5)" in out
    assert "dependency audit: FAILED (1 known vulnerabilities in 1 releases, pypi)" in out


def test_an_audit_passes_only_when_every_release_was_looked_up(capsys):
    audit = _load("dependency_audit")
    clean = {"name": "django", "version": "5.2.19", "vulns": []}
    assert audit._judge(_report(clean, {"name": "x", "skip_reason": "not found"}), "pypi") is None
    assert audit._judge(_report(), "pypi") is None
    assert capsys.readouterr().out == ""
    assert audit._judge(_report(clean), "osv") == 0
    assert capsys.readouterr().out == "dependency audit: passed (1 releases, no known vulnerability, osv)\n"


@pytest.mark.parametrize(
    ("path", "text", "found"),
    [
        # Throwaway passwords of test users: deliberate, filtered in tests/ only.
        ("tests/test_x.py", 'PASSWORD = "Violet-Granite-Meadow-58"\n', set()),
        ("genxsop/x.py", 'PASSWORD = "Violet-Granite-Meadow-58"\n', {"Secret Keyword"}),
        # A real key format is caught in tests/ too.
        ("tests/test_x.py", 'KEY = "AKIAZ3MSJV4WWNKWW5FG"\n', {"AWS Access Key"}),  # pragma: allowlist secret (made up)
        # Placeholder passwords in example URLs pass; a password that looks real does not.
        ("docs/x.md", "postgres://genxsop:PASSWORD@db.internal:5432/genxsop\n", set()),
        ("docs/x.md", "redis://app:<password>@cache:6379/0\n", set()),
        ("docs/x.md", "postgres://genxsop:Tq7-rW2x-Lp9@db.internal:5432/genxsop\n", {"Basic Auth Credentials"}),
    ],
)
def test_the_secrets_scan_exceptions_are_narrow(tmp_path, path, text, found):
    target = tmp_path / path
    target.parent.mkdir(parents=True)
    target.write_text(text)
    filters = [f"file://{ROOT / '.ci' / 'secrets_filters.py'}::{name}"
               for name in ("is_test_fixture_credential", "is_placeholder_credential")]  # fmt: skip
    done = subprocess.run(  # noqa: S603  (the venv's detect-secrets on a file this test wrote)
        [str(BIN / "detect-secrets"), "scan", *(arg for f in filters for arg in ("--filter", f)), path],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    results = json.loads(done.stdout)["results"]
    assert {hit["type"] for hit in results.get(path, [])} == found

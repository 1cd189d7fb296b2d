"""The backup and restore drill (`bench/backup_restore.py`, OPS-62) runs end to end and cleans up.

It needs PostgreSQL and its client tools: it runs only when the suite itself runs on PostgreSQL
(`DATABASE_URL=postgres://…`) and `pg_dump`, `pg_restore` and `psql` are on the PATH, and uses that
server with database names of its own.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DB = settings.DATABASES["default"]
TOOLS = ("pg_dump", "pg_restore", "psql")

on_postgres = pytest.mark.skipif(DB["ENGINE"] != "django.db.backends.postgresql", reason="the drill needs PostgreSQL")
with_client_tools = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in TOOLS), reason="pg_dump, pg_restore or psql missing"
)


def server_url() -> str:
    user = DB.get("USER") or "postgres"
    password = f":{DB['PASSWORD']}" if DB.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{DB.get('HOST') or '127.0.0.1'}:{DB.get('PORT') or 5432}"


def databases(server: str) -> set[str]:
    psql = shutil.which("psql")
    query = ["--no-psqlrc", "-At", f"{server}/postgres", "-c", "SELECT datname FROM pg_database"]
    listed = subprocess.run([psql, *query], capture_output=True, text=True, check=True)  # noqa: S603 (fixed query)
    return set(listed.stdout.split())


@pytest.mark.slow
@on_postgres
@with_client_tools
def test_drill_restores_verifies_and_drops_its_databases(tmp_path):
    server = server_url()
    # Names of this run only, so a second suite on the same server cannot collide with it.
    source, restore = f"gx_drill_t{os.getpid()}_src", f"gx_drill_t{os.getpid()}_restore"
    report = tmp_path / "drill.json"
    # A clean environment: the child must not inherit the test settings module or the suite's database.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    result = subprocess.run(  # noqa: S603 (our interpreter and script)
        [sys.executable, "bench/backup_restore.py", "--server", server, "--source-db", source,
         "--restore-db", restore, "--dump-dir", str(tmp_path), "--json", str(report)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "result: PASS" in result.stdout
    figures = json.loads(report.read_text())
    assert figures["checks_ok"] is True
    assert {check["name"] for check in figures["checks"] if check["ok"]} == {
        "row counts", "sequences", "chain head", "last write before the backup restored",
        "write after the backup absent", "verify_audit_chain", "append-only triggers", "no pending migrations",
        "/ready",
    }  # fmt: skip
    # The demo's catalogue came through: 40 products, and the audit chain ends at the marker
    # written just before the dump (the last of the rows verify_audit_chain checked).
    assert figures["table_counts"]["products"] >= 40
    assert figures["chain_rows"] == figures["table_counts"]["audit_events"]
    assert figures["rto_s"] >= figures["restore_s"] > 0
    assert figures["dump_bytes"] > 0
    assert not {source, restore} & databases(server)
    assert not list(tmp_path.glob("*.dump"))


def test_drill_refuses_databases_it_does_not_own():
    result = subprocess.run(
        [sys.executable, "bench/backup_restore.py", "--source-db", "genxsop"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 2
    assert "must start with gx_drill_" in result.stderr

"""Backup and restore drill on PostgreSQL, timed (not a test; OPS-62).

Creates a source database, migrates it and loads the demo data (`--scale N` adds synthetic products),
writes a marker audit event, takes a custom-format `pg_dump`, restores it into a fresh database and
verifies the restore the way the runbook's smoke check does, only exhaustively: the row count of every
table and the position of every sequence equal the source's at backup time, the audit hash chain
verifies and ends at the source's head, the append-only triggers came back, the marker written before
the backup is there and the one written after it is not, no migration is pending and `/ready` answers
200 from a fresh process pointed at the restored database. It prints the backup time and size, the
restore time, the RTO and the RPO, and exits 1 when any verification fails.

    .venv/bin/python bench/backup_restore.py                 # --scale 200, --jobs 2, --keep, --json FILE

The drill drops and recreates its two databases (`gx_drill_src`, `gx_drill_restore` by default, both
on `--server`), so it refuses names that do not start with `gx_drill_`; they are dropped at the end
unless `--keep`.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_PREFIX = "gx_drill_"
MARKER_EVENT = "ops.backup_drill.marker"
# The tables the runbook's manual smoke check compares; printed first.
CORE_TABLES = ("users", "categories", "products", "locations", "demand_plans", "supply_plans", "audit_events")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL.")
    parser.add_argument("--source-db", default=f"{DB_PREFIX}src")
    parser.add_argument("--restore-db", default=f"{DB_PREFIX}restore")
    parser.add_argument("--scale", type=int, default=0, help="Synthetic products for load_demo --scale (0: none).")
    parser.add_argument("--jobs", type=int, default=1, help="pg_restore --jobs (parallel restore).")
    parser.add_argument("--dump-dir", default=tempfile.gettempdir())
    parser.add_argument("--keep", action="store_true", help="Keep both databases and the dump file.")
    parser.add_argument("--json", metavar="FILE", help="Also write every figure and table count as JSON.")
    args = parser.parse_args()
    for name in (args.source_db, args.restore_db):
        if not name.startswith(DB_PREFIX) or not name.replace("_", "").isalnum():
            parser.error(f"{name!r}: the drill drops its databases, so their names must start with {DB_PREFIX}")
    if args.source_db == args.restore_db:
        parser.error("the source and restore databases must differ")
    return args


ARGS = parse_args()
SOURCE_URL = f"{ARGS.server.rstrip('/')}/{ARGS.source_db}"
RESTORE_URL = f"{ARGS.server.rstrip('/')}/{ARGS.restore_db}"
ADMIN_URL = f"{ARGS.server.rstrip('/')}/postgres"


def run(cmd: list[str], *, env_url: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if env_url:
        env["DATABASE_URL"] = env_url
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} … failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


def manage(*args: str, url: str, check: bool = False) -> subprocess.CompletedProcess:
    """A fresh app process on `url`, as an operator would start one against the restored database."""
    return run([sys.executable, "manage.py", *args], env_url=url, check=check)


def recreate(name: str) -> None:
    psql = ["psql", "--no-psqlrc", "-q", "-v", "ON_ERROR_STOP=1", ADMIN_URL, "-c"]
    run([*psql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])
    run([*psql, f'CREATE DATABASE "{name}"'])


def drop(name: str) -> None:
    run(["psql", "--no-psqlrc", "-q", ADMIN_URL, "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


# The source database must exist before Django opens its first connection to it.
recreate(ARGS.source_db)
os.environ["DATABASE_URL"] = SOURCE_URL
# The demo load logs every task it enqueues; the drill's own lines are the report.
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genxsop.settings.base")

from django.conf import settings  # noqa: E402

settings.DATABASES["restore"] = {**settings.DATABASES["default"], "NAME": ARGS.restore_db}

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from genxsop.context import cli_context  # noqa: E402
from governance import audit  # noqa: E402
from governance.models import AuditChainHead, AuditEvent  # noqa: E402


class DrillMarker:
    """The audit target of the marker events: the drill itself, not a row."""

    pk = "backup-drill"

    def __init__(self, phase: str):
        self.phase = phase

    def __str__(self) -> str:
        return f"backup drill marker ({self.phase})"


def write_marker(phase: str) -> AuditEvent:
    """One committed audit row; returns it once the commit has happened."""
    with cli_context(), transaction.atomic():
        event = audit.record(actor=None, event_type=MARKER_EVENT, target=DrillMarker(phase), metadata={"phase": phase})
    return event


def table_counts(alias: str) -> dict[str, int]:
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608  (names from the catalog)
            counts[table] = cursor.fetchone()[0]
    return counts


def sequence_positions(alias: str) -> dict[str, int | None]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
        return dict(cursor.fetchall())


def chain_head(alias: str) -> tuple[int, str]:
    head = AuditChainHead.objects.using(alias).filter(pk=1).first()
    return (head.last_seq, head.last_hash) if head else (0, "")


def seconds(start: float) -> float:
    return time.perf_counter() - start


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


class Checks:
    def __init__(self):
        self.results: list[tuple[str, bool, str]] = []

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.results.append((name, ok, detail))
        print(f"  [{'PASS' if ok else 'FAIL'}] {name}{': ' + detail if detail else ''}")
        return ok

    @property
    def ok(self) -> bool:
        return all(ok for _, ok, _ in self.results)


def main() -> int:
    figures: dict = {"source_db": ARGS.source_db, "restore_db": ARGS.restore_db, "scale": ARGS.scale}
    dump_path = Path(ARGS.dump_dir) / f"{ARGS.source_db}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.dump"
    version = connections["default"].cursor().connection.info.server_version
    dump_version = run(["pg_dump", "--version"]).stdout.split()[2]
    print(f"PostgreSQL {version // 10000}.{version % 10000}, pg_dump {dump_version}, scale {ARGS.scale}")

    # 1. A loaded instance.
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    figures["migrate_s"] = round(seconds(started), 1)
    started = time.perf_counter()
    load_args = ["--scale", str(ARGS.scale)] if ARGS.scale else []
    # Its report lists the demo passwords and a fresh API token: nothing the drill should print.
    call_command("load_demo", *load_args, verbosity=0, stdout=io.StringIO())
    figures["load_demo_s"] = round(seconds(started), 1)
    print(f"source {ARGS.source_db}: migrate {figures['migrate_s']} s, load_demo {figures['load_demo_s']} s")

    # 2. The last write before the backup, and the source's state at that point.
    before = write_marker("before_backup")
    source_counts = table_counts("default")
    source_sequences = sequence_positions("default")
    source_head = chain_head("default")
    connections.close_all()
    source_chain = manage("verify_audit_chain", "--json", url=SOURCE_URL)
    print(f"last write before the backup: audit seq {before.chain_seq} at {iso(before.occurred_at)}")

    # 3. Backup. pg_dump takes its snapshot as it starts; `started_at` is just before that.
    backup_started_at = timezone.now()
    started = time.perf_counter()
    run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump_path}", SOURCE_URL])
    figures["backup_s"] = round(seconds(started), 2)
    backup_finished_at = timezone.now()
    figures["dump_bytes"] = dump_path.stat().st_size
    print(f"backup: pg_dump -Fc {figures['backup_s']} s, {figures['dump_bytes'] / 1e6:.1f} MB -> {dump_path}")

    # 4. Work goes on at the source after the backup; the restore must not contain it.
    after = write_marker("after_backup")
    connections.close_all()

    # 5. Restore into a fresh database and verify it. RTO runs from here to "verified and ready".
    restore_started_at = timezone.now()
    rto_started = time.perf_counter()
    recreate(ARGS.restore_db)
    started = time.perf_counter()
    jobs = [f"--jobs={ARGS.jobs}"] if ARGS.jobs > 1 else []
    run(["pg_restore", "--no-owner", "--exit-on-error", *jobs, f"--dbname={RESTORE_URL}", str(dump_path)])
    figures["restore_s"] = round(seconds(started), 2)
    print(f"restore: pg_restore {figures['restore_s']} s into {ARGS.restore_db}")

    print("verification:")
    checks = Checks()
    started = time.perf_counter()
    restored_counts = table_counts("restore")
    mismatches = {
        t: (source_counts.get(t), restored_counts.get(t))
        for t in sorted(set(source_counts) | set(restored_counts))
        if source_counts.get(t) != restored_counts.get(t)
    }
    checks.add(
        "row counts",
        not mismatches,
        f"{len(source_counts)} tables, {sum(source_counts.values())} rows"
        + (f"; differ (source, restore): {mismatches}" if mismatches else ", all equal"),
    )
    restored_sequences = sequence_positions("restore")
    moved = {s: (v, restored_sequences.get(s)) for s, v in source_sequences.items() if restored_sequences.get(s) != v}
    checks.add(
        "sequences", not moved, f"{len(source_sequences)} at the source's positions" if not moved else str(moved)
    )
    restored_head = chain_head("restore")
    checks.add("chain head", restored_head == source_head, f"seq {restored_head[0]} = source seq {source_head[0]}")
    markers = set(
        AuditEvent.objects.using("restore").filter(event_type=MARKER_EVENT).values_list("metadata__phase", flat=True)
    )
    checks.add("last write before the backup restored", "before_backup" in markers, f"seq {before.chain_seq}")
    checks.add("write after the backup absent", "after_backup" not in markers, f"source seq {after.chain_seq}")
    connections.close_all()

    chain = manage("verify_audit_chain", "--json", url=RESTORE_URL)
    try:
        chain_result = json.loads(chain.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        chain_result = {"ok": False, "rows_checked": 0, "triggers": False, "first_problem": chain.stderr.strip()}
    source_result = json.loads(source_chain.stdout.strip().splitlines()[-1])
    checks.add(
        "verify_audit_chain",
        chain.returncode == 0 and chain_result["ok"] and chain_result["rows_checked"] == source_result["rows_checked"],
        f"exit {chain.returncode}, {chain_result['rows_checked']} rows checked"
        + (f", {chain_result['first_problem']}" if chain_result.get("first_problem") else ""),
    )
    checks.add(
        "append-only triggers",
        bool(chain_result.get("triggers")),
        "present" if chain_result.get("triggers") else "missing",
    )
    pending = manage("migrate", "--check", url=RESTORE_URL)
    checks.add("no pending migrations", pending.returncode == 0, (pending.stdout + pending.stderr).strip()[-200:])
    probe = manage(
        "shell", "-c",
        "from django.test import Client; r = Client(HTTP_HOST='localhost').get('/ready'); "
        "print('READY_PROBE', r.status_code, r.content.decode())",
        url=RESTORE_URL,
    )  # fmt: skip
    # The app logs to standard output too; the probe's answer is the line it marked.
    line = next((ln for ln in probe.stdout.splitlines() if ln.startswith("READY_PROBE ")), "READY_PROBE - {}")
    status, _, body = line.removeprefix("READY_PROBE ").partition(" ")
    ready = status == "200" and json.loads(body or "{}").get("status") == "ready"
    checks.add("/ready", ready, status if ready else (probe.stdout + probe.stderr).strip()[-300:])
    figures["verify_s"] = round(seconds(started), 2)
    figures["rto_s"] = round(seconds(rto_started), 2)
    ready_at = timezone.now()

    # RPO: what a restore of this dump loses. The dump holds every write committed before its snapshot
    # (checked above with the marker), so the loss is whatever was committed after the snapshot: here
    # the after-backup marker, and in general everything from the snapshot to the restore decision.
    figures["last_write_to_snapshot_s"] = round((backup_started_at - before.occurred_at).total_seconds(), 3)
    figures["rpo_at_restore_s"] = round((restore_started_at - backup_started_at).total_seconds(), 2)
    figures.update(
        last_write_at=iso(before.occurred_at), backup_started_at=iso(backup_started_at),
        backup_finished_at=iso(backup_finished_at), restore_started_at=iso(restore_started_at),
        ready_at=iso(ready_at), chain_rows=chain_result["rows_checked"], checks_ok=checks.ok,
        tables=len(source_counts), rows=sum(source_counts.values()), table_counts=source_counts,
        checks=[{"name": n, "ok": ok, "detail": d} for n, ok, d in checks.results],
    )  # fmt: skip

    print("core tables (source = restore):")
    for table in CORE_TABLES:
        print(f"  {table:<28} {source_counts.get(table, 0):>9}")
    print("largest tables:")
    for table, n in sorted(source_counts.items(), key=lambda item: -item[1])[:8]:
        print(f"  {table:<28} {n:>9}")
    print(f"backup            {figures['backup_s']:8.2f} s   {figures['dump_bytes'] / 1e6:.1f} MB")
    print(f"restore           {figures['restore_s']:8.2f} s   pg_restore alone")
    print(f"verify            {figures['verify_s']:8.2f} s   counts, chain, migrations, /ready")
    print(f"RTO               {figures['rto_s']:8.2f} s   start of restore -> restored database verified and ready")
    print(f"RPO               {figures['rpo_at_restore_s']:8.2f} s   age of the dump's snapshot when the restore "
          f"started: writes after {iso(backup_started_at)} are lost")  # fmt: skip
    print(f"  last write -> snapshot {figures['last_write_to_snapshot_s']:.3f} s (the drill counting the source; no "
          f"writes), and that write was restored: nothing committed before the snapshot was lost")  # fmt: skip
    print(f"result: {'PASS' if checks.ok else 'FAIL'}")

    if ARGS.json:
        Path(ARGS.json).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    connections.close_all()
    if ARGS.keep:
        print(f"kept {ARGS.source_db}, {ARGS.restore_db} and {dump_path}")
    else:
        drop(ARGS.restore_db)
        drop(ARGS.source_db)
        dump_path.unlink(missing_ok=True)
    return 0 if checks.ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""API fuzzing on a large budget: schemathesis over every operation of the OpenAPI schema.

Creates a scratch PostgreSQL database (name starting with gx_fuzz_), migrates it, seeds the small
world of the role matrix (one or more rows in every area) and an admin with an all-scope integration
token, then sends every operation of /api/v1/schema up to --examples valid and --examples invalid
cases in-process through the WSGI application (the same code path gunicorn runs). Each response is
checked for a server error (5xx), an undocumented status code, an undocumented content type and a
body that does not match the documented schema.

Prints the cases run, the responses by status class, the failures per check, the server errors,
the schema violations and the time; exits 1 on any failure. The CI run of the same code with a small
budget is tests/platform/test_api_fuzz.py.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_PREFIX = "gx_fuzz_"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL.")
    parser.add_argument("--db", default=f"{DB_PREFIX}bench", help="Scratch database (dropped and created).")
    parser.add_argument(
        "--examples", type=int, default=12, help="Cases per operation and mode (valid, invalid), at most."
    )
    parser.add_argument("--seed", type=int, default=20261126, help="Hypothesis seed (same seed, same cases).")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    args = parser.parse_args()
    if not args.db.startswith(DB_PREFIX) or not args.db.replace("_", "").isalnum():
        parser.error(f"{args.db!r}: the bench drops its database, so its name must start with {DB_PREFIX}")
    return args


ARGS = parse_args()
ADMIN_URL = f"{ARGS.server.rstrip('/')}/postgres"


def psql(sql: str) -> None:
    result = subprocess.run(["psql", "--no-psqlrc", "-q", "-v", "ON_ERROR_STOP=1", ADMIN_URL, "-c", sql],
                            capture_output=True, text=True)  # fmt: skip
    if result.returncode != 0:
        sys.exit(f"psql failed: {result.stderr}")


psql(f'DROP DATABASE IF EXISTS "{ARGS.db}" WITH (FORCE)')
psql(f'CREATE DATABASE "{ARGS.db}"')
os.environ["DATABASE_URL"] = f"{ARGS.server.rstrip('/')}/{ARGS.db}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genxsop.settings.base")
# Rate limits would answer most cases with a (documented) 429 and leave the handlers untested.
for name in ("API_THROTTLE_RATE_USER", "API_THROTTLE_RATE_ANON", "API_THROTTLE_RATE_WRITE", "AUTH_THROTTLE_RATE"):
    os.environ[name] = "1000000/min"
os.environ.setdefault("CACHE_URL", "locmem://api-fuzz")
# Every 4xx is a log line; errors (and the 5xx this run looks for) still print.
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from tests.platform import fuzzing  # noqa: E402


def main() -> int:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    _, token, ids = fuzzing.seed()
    setup_seconds = time.perf_counter() - started
    print(f"database {ARGS.db}: migrated and seeded in {setup_seconds:.1f} s; "
          f"{ARGS.examples} valid + {ARGS.examples} invalid cases per operation at most, seed {ARGS.seed}")  # fmt: skip

    def progress(operation, report):
        if report.operations % 40 == 0:
            print(f"  {report.operations} operations, {report.cases} cases, {len(report.failures)} failures "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip

    try:
        report = fuzzing.run(max_examples=ARGS.examples, seed_value=ARGS.seed, ids=ids, token=token, progress=progress)
    finally:
        if not ARGS.keep:
            from django.db import connections

            connections.close_all()
            psql(f'DROP DATABASE IF EXISTS "{ARGS.db}" WITH (FORCE)')

    by_class = {}
    for status, count in report.statuses.items():
        by_class[f"{status // 100}xx"] = by_class.get(f"{status // 100}xx", 0) + count
    print()
    print(f"operations           {report.operations}")
    print(f"cases run            {report.cases}")
    print(f"responses            {', '.join(f'{k} {v}' for k, v in sorted(by_class.items()))}")
    print(f"fuzzing time         {report.seconds:.1f} s ({report.cases / report.seconds:.1f} cases/s)")
    print("failing cases by check:")
    for check in fuzzing.CHECKS:
        print(f"  {check.__name__:<30} {report.check_failures.get(check.__name__, 0)}")
    print(f"server errors (5xx)  {report.server_errors}")
    print(f"schema violations    {report.schema_violations}")
    if report.failures:
        print()
        print(report.summary())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

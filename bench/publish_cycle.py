"""Publish governance on the demo data, timed (not a test).

Loads the demo data (anchor = the current month) into the configured database unless it is there,
walks the active S&OP cycle as DEMO-11 describes (open approvals finished, the anchor-month scenario
approved and designated, the cycle advanced to step 5), then times what people wait for: the readiness
evaluation of each lane (dry run), the monthly publish (its own evaluation, locks, items, snapshot,
ERP message) and the rollback. It prints seconds, the rows in scope and the query counts, and checks
the audit chain at the end. Run it on a scratch database: it publishes and rolls back.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gx_publish .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gx_publish .venv/bin/python bench/publish_cycle.py
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genxsop.settings.base")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from genxsop.context import cli_context  # noqa: E402
from governance.audit_chain import verify  # noqa: E402
from governance.choices import CycleStatus, Lane  # noqa: E402
from governance.demo_governance import COORDINATOR, EXECUTIVE, finish_open_reviews  # noqa: E402
from governance.models import SopCycle, User  # noqa: E402
from governance.services import cycles  # noqa: E402
from governance.services.publishing import publication_publish, publication_rollback  # noqa: E402
from governance.services.readiness import readiness_evaluate  # noqa: E402
from planning.choices import ScenarioStatus  # noqa: E402
from planning.models import Scenario  # noqa: E402
from planning.services.scenarios import scenario_approve, scenario_designate_operating_plan  # noqa: E402


def timed(label: str, fn):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    print(f"{label:<44} {seconds:8.3f} s  {len(queries):6d} queries")
    return result


def main() -> None:
    anchor = timezone.localdate().replace(day=1)
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, anchor {anchor:%Y-%m}")
    if not SopCycle.objects.filter(period=anchor).exists():
        timed("load_demo", lambda: call_command("load_demo", verbosity=0))
    coordinator, executive = User.objects.get(email=COORDINATOR), User.objects.get(email=EXECUTIVE)
    with cli_context():
        cycle = SopCycle.objects.get(period=anchor, overall_status=CycleStatus.ACTIVE)
        while cycle.current_step < 5:
            finish_open_reviews(from_period=anchor)
            cycle = cycles.cycle_advance(actor=coordinator, cycle=cycle, comment="Gate passed.")
        candidate = Scenario.objects.filter(period=anchor, status=ScenarioStatus.SUBMITTED).first()
        if candidate is not None:
            candidate = scenario_approve(actor=executive, scenario=candidate)
            scenario_designate_operating_plan(actor=executive, scenario=candidate)
        for lane in (Lane.WEEKLY, Lane.MONTHLY):
            for attempt in ("cold", "warm"):
                evaluation = timed(
                    f"readiness {lane} ({attempt})",
                    lambda lane=lane: readiness_evaluate(actor=coordinator, lane=lane, sop_cycle=cycle),
                )
            counts = evaluation.plan_counts
            print(f"  {lane}: {evaluation.outcome}, score {evaluation.score}/4 (required {evaluation.required_score}), "
                  f"{evaluation.period_from:%Y-%m}..{evaluation.period_to:%Y-%m}, rows {counts}")  # fmt: skip
        publication = timed(
            "publish monthly", lambda: publication_publish(actor=coordinator, lane=Lane.MONTHLY, sop_cycle=cycle)
        )
        print(f"  {publication.version_stamp}: {publication.outcome}, {publication.item_count} items")
        reason = "Benchmark rollback of the monthly publication"
        result = timed(
            "rollback monthly", lambda: publication_rollback(actor=executive, publication=publication, reason=reason)
        )
        print(f"  restored {len(result['restored_plans'])}, released {len(result['released_plans'])}")
    report = timed("verify_audit_chain", verify)
    print(f"  audit chain ok={report.ok}, {report.rows_checked} rows")


if __name__ == "__main__":
    main()

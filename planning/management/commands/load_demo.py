"""`manage.py load_demo [--seed N] [--anchor YYYY-MM] [--reset] [--scale N]` (DEMO-01)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from genxsop.errors import DomainError
from planning import demo
from planning.demo_check import DemoCheckFailed


class Command(BaseCommand):
    help = (
        "Load the demo data set (users, service account, catalog, locations, demand and supply plans, inventory,"
        " forecast runs, consensus and accuracy)."
        " Idempotent; refused in production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=None, help="Random seed (default: DEMO_SEED, 42).")
        parser.add_argument("--anchor", default=None, help="Anchor month YYYY-MM (default: the current month).")
        parser.add_argument("--reset", action="store_true", help="Delete the demo data first, then reload.")
        parser.add_argument("--scale", type=int, default=0, metavar="N",
                            help="Add N synthetic products (SCL-000001…) with plans and stock.")  # fmt: skip

    def handle(self, *args, seed, anchor, reset, scale, **options):
        if scale < 0:
            raise CommandError("--scale must be 0 or more.")
        try:
            anchor_date = demo.parse_anchor(anchor) if anchor else None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        try:
            report = demo.load(seed=seed, anchor=anchor_date, reset=reset, scale=scale)
        except (demo.DemoDataRefused, DemoCheckFailed) as exc:
            raise CommandError(str(exc)) from None
        except DomainError as exc:
            detail = f" {exc.fields}" if exc.fields else ""
            raise CommandError(f"Demo data could not be loaded: {exc.message}{detail}") from None
        self._print_report(report)

    def _print_report(self, report: demo.DemoReport) -> None:
        out = self.stdout.write
        out(f"Demo data (seed {report.seed}, anchor {report.anchor:%Y-%m})")
        if report.deleted:
            out("  reset: deleted " + _counts(report.deleted))
        for item in report.kept_on_reset:
            out(self.style.WARNING(f"  reset kept {item}"))
        out("  created: " + (_counts(report.created) or "nothing"))
        if report.existing:
            out("  already present: " + _counts(report.existing))
        for check in report.checks:
            out(f"  self-check: {check}")
        out("  time: " + ", ".join(f"{k} {v:.1f}s" for k, v in report.seconds.items()))

        out("")
        out("Demo accounts (password for every person below: " + settings.DEMO_PASSWORD + ")")
        for user in (*demo.ROLE_USERS, *demo.SCOPED_USERS):
            out(f"  {user.email:<30} {user.role:<18} {user.full_name} ({user.department})")
        out("  Object scopes of the scoped accounts (they see and change only this part of the data):")
        for user in demo.SCOPED_USERS:
            out(f"    {user.email}: {user.scope_note}")

        account = demo.SERVICE_ACCOUNT
        out("")
        out(f"Service account {account.email} ({account.role}, no password; API token only)")
        if report.token_plaintext:
            out("  API token (shown once, store it now): " + report.token_plaintext)
            out("  scopes: " + ", ".join(demo.SERVICE_TOKEN_SCOPES))
        else:
            out(f"  An API token already exists ({report.token_prefix}…); its secret was shown when it was created.")


_LABELS = {"api_tokens": "API tokens", "demand_plans": "demand plans", "supply_plans": "supply plans",
           "inventory": "inventory rows", "inventory_snapshots": "inventory snapshots",
           "forecast_runs": "forecast runs", "forecast_consensus": "consensus rows",
           "forecast_anomalies": "anomalies", "accuracy_points": "accuracy points"}  # fmt: skip


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {_LABELS.get(kind, kind)}" for kind, n in sorted(counts.items()))

"""`manage.py capture_inventory_snapshots [--period YYYY-MM]` (OPS-41): the month-close snapshot by hand."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from genxsop import context
from genxsop.errors import DomainError
from planning.services.inventory import inventory_snapshot_capture, previous_month


def _period(value: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(value.strip(), "%Y-%m").date()  # noqa: DTZ007 (a month, no time zone)
    except ValueError:
        raise CommandError(f"--period must be YYYY-MM, not {value!r}.") from None


class Command(BaseCommand):
    help = "Copy the current inventory rows into the month-end snapshots of a period. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--period", default=None, help="Month to close, YYYY-MM (default: the previous month).")

    def handle(self, *args, period, **options):
        month = _period(period) if period else previous_month()
        with context.cli_context():
            try:
                result = inventory_snapshot_capture(actor=None, period=month)
            except DomainError as exc:
                raise CommandError(exc.message) from None
        self.stdout.write(
            f"Inventory snapshots {month:%Y-%m}: {result['created']} created, {result['updated']} updated, "
            f"{result['unchanged']} unchanged, {result['kept']} kept from the ERP."
        )

"""`manage.py cleanup_forecast_jobs`: FC-76 retention of finished forecast jobs, as the daily schedule runs it."""

from django.core.management.base import BaseCommand, CommandError

from forecasting.services.jobs import forecast_jobs_cleanup
from genxsop import context
from genxsop.errors import ValidationFailed


class Command(BaseCommand):
    help = "Delete completed, failed and cancelled forecast jobs older than the retention; runs and results stay."

    def add_arguments(self, parser):
        parser.add_argument("--retention-days", type=int, default=None,
                            help="1..3650 (default FORECAST_JOB_RETENTION_DAYS).")  # fmt: skip
        parser.add_argument("--dry-run", action="store_true", help="Count the jobs; delete nothing.")

    def handle(self, *args, **options):
        with context.cli_context():
            try:
                result = forecast_jobs_cleanup(actor=None, retention_days=options["retention_days"],
                                               dry_run=options["dry_run"])  # fmt: skip
            except ValidationFailed as exc:
                raise CommandError(f"--retention-days: {exc.fields or exc.message}") from None
        verb = "would delete" if result["dry_run"] else "deleted"
        cutoff = f"{result['cutoff']:%Y-%m-%d %H:%M} UTC"
        self.stdout.write(f"{verb} {result['deleted_jobs']} forecast jobs finished before {cutoff} "
                          f"(retention {result['retention_days']} days)")  # fmt: skip

"""`manage.py reap_forecast_jobs`: FC-74 now, as the every-minute schedule and a starting worker run it."""

from django.core.management.base import BaseCommand

from forecasting.services.jobs import forecast_jobs_reap
from genxsop import context


class Command(BaseCommand):
    help = "Requeue or fail forecast jobs whose worker stopped reporting; enqueue queued jobs the broker lost."

    def handle(self, *args, **options):
        with context.cli_context():
            outcome = forecast_jobs_reap()
        self.stdout.write(" ".join(f"{key}={value}" for key, value in outcome.items()))

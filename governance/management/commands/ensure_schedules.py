"""`manage.py ensure_schedules`: create or correct the django-q2 schedules (OPS-40); safe to repeat."""

from django.core.management.base import BaseCommand

from genxsop import context
from governance.schedules import SCHEDULES, ensure_schedules


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules (one row per stable name); running it again changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="Database alias (default: default).")

    def handle(self, *args, **options):
        with context.cli_context():
            outcome = ensure_schedules(using=options["database"])
        for spec in SCHEDULES:
            self.stdout.write(f"{outcome[spec.name]} {spec.name}: {spec.func} {spec.describe()}")

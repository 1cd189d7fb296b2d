"""`manage.py publish_plans --lane monthly --actor <email> [--period-from YYYY-MM] [--override-justification TEXT]`.

Publishing from the command line (GOV-63): the same service as the API and the console, so the
gates are evaluated in the publish transaction and a No-Go is refused unless the actor may
override. The run is audited as the named actor with source `cli`.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError

from genxsop import context
from genxsop.errors import DomainError
from governance.choices import Lane
from governance.models import User
from governance.services.publishing import publication_publish


def _month(value: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(value.strip(), "%Y-%m").date()  # noqa: DTZ007 (a month, no time zone)
    except ValueError:
        raise CommandError(f"--period-from must be YYYY-MM, not {value!r}.") from None


class Command(BaseCommand):
    help = "Publish the plans of a lane's horizon through the publish gate (GOV-63)."

    def add_arguments(self, parser):
        parser.add_argument("--lane", required=True, choices=Lane.values)
        parser.add_argument("--actor", required=True, help="E-mail of the publishing user (needs PUB).")
        parser.add_argument("--period-from", default=None, help="Monthly lane: first period, YYYY-MM.")
        parser.add_argument("--override-justification", default=None,
                            help="Publish a No-Go (APPR only, at least 20 characters).")  # fmt: skip

    def handle(self, *args, lane, actor, period_from, override_justification, **options):
        user = User.objects.filter(email__iexact=actor.strip(), is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {actor!r}.")
        start = _month(period_from) if period_from else None
        with context.cli_context():
            try:
                publication = publication_publish(actor=user, lane=lane, period_from=start,
                                                  override_justification=override_justification)  # fmt: skip
            except DomainError as exc:
                failed = ", ".join((exc.context or {}).get("failed_gates") or [])
                suffix = f" (failed gates: {failed})" if failed else ""
                raise CommandError(f"{exc.code}: {exc.message}{suffix}") from None
        self.stdout.write(self.style.SUCCESS(
            f"Published {publication.version_stamp}: {publication.item_count} items, {publication.period_from:%Y-%m} "
            f"to {publication.period_to:%Y-%m}, outcome {publication.outcome}, sha256 {publication.snapshot_sha256}"
        ))  # fmt: skip

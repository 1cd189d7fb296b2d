"""`manage.py verify_audit_chain [--from-seq N] [--json]`: recompute the audit hash chain (GOV-31, ADR 0015).

Streams the audit rows in sequence order and reports the first row that was changed, inserted
outside the audit writer, or deleted. Exits 0 when the chain verifies and 1 otherwise. Read-only,
so it can run against a replica or a restored backup; it writes no audit row.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from governance import audit_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exit code 1 names the first changed, inserted or deleted row."

    def add_arguments(self, parser):
        parser.add_argument("--from-seq", type=int, default=1, help="Start at this sequence number (default 1).")
        parser.add_argument("--json", action="store_true", help="Print the result as one JSON object.")

    def handle(self, *args, from_seq: int, **options):
        result = audit_chain.verify(from_seq=from_seq)
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
        elif result.ok:
            span = f" (seq {result.first_seq}..{result.last_seq})" if result.rows_checked else ""
            self.stdout.write(self.style.SUCCESS(
                f"OK: {result.rows_checked} rows checked{span}; chain head at seq {result.head_seq}."))  # fmt: skip
        if not result.triggers and not options["json"]:
            warning = "WARNING: the append-only triggers on audit_events are missing or disabled (see the runbook)."
            self.stdout.write(self.style.WARNING(warning))
        if not result.ok:
            raise CommandError(f"audit chain broken: {result.first_problem.message}", returncode=1)

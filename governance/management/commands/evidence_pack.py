"""`manage.py evidence_pack --from YYYY-MM-DD --to YYYY-MM-DD --out <dir>`: the compliance evidence pack (OPS-64).

Writes the audit log of the period, role assignments and changes, the access review, publish
readiness, forecast job metrics, the audit chain as of the period end and the security controls,
as JSON and CSV, plus `manifest.json` with every file's SHA-256. The run is audited
(`governance.evidence_pack.generated`, source `cli`). See docs/runbooks/operations.md.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from genxsop.context import cli_context
from genxsop.errors import ValidationFailed
from governance.services import evidence


class Command(BaseCommand):
    help = "Write the compliance evidence pack of a period (whole UTC days) into an empty directory."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="First day, YYYY-MM-DD (UTC).")
        parser.add_argument("--to", dest="end", required=True, help="Last day, YYYY-MM-DD (UTC), inclusive.")
        parser.add_argument("--out", required=True, help="Directory to create (must be empty if it exists).")

    def handle(self, *args, start: str, end: str, out: str, **options):
        try:
            period = evidence.Period.parse(start, end)
            with cli_context():
                sink = evidence.DirectorySink(out)
                manifest = evidence.evidence_pack_write(actor=None, period=period, sink=sink, source="cli")
        except ValidationFailed as exc:
            details = "; ".join(f"--{k}: {' '.join(v)}" for k, v in (exc.fields or {}).items())
            raise CommandError(f"{exc.message} {details}".strip()) from None
        for entry in manifest["files"]:
            self.stdout.write(f"{entry['sha256']}  {entry['name']}")
        self.stdout.write(self.style.SUCCESS(
            f"Evidence pack {period.label}: {len(manifest['files'])} files and manifest.json in {out}"))  # fmt: skip
        if options["verbosity"] > 1:
            self.stdout.write(json.dumps(manifest["chain_at_generation"]))

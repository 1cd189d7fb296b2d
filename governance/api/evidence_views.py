"""The compliance evidence pack over the API (OPS-64): `GET /governance/evidence-pack?from=&to=` answers a zip."""

import tempfile

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from genxsop.api.schema import READ_ERRORS, error_responses
from genxsop.downloads import attachment
from governance.api.audit_views import _AuditView, _FormatIsAQueryParameter
from governance.permissions import EXPORT_AUDIT_EVENT
from governance.services import evidence

_SPOOL_BYTES = 32 * 1024 * 1024  # larger packs go to a temporary file instead of memory


class EvidencePackView(_AuditView):
    permission = EXPORT_AUDIT_EVENT
    content_negotiation_class = _FormatIsAQueryParameter  # the answer is a zip whatever Accept says; errors JSON

    @extend_schema(
        summary="Download the compliance evidence pack",
        description="OPS-64 (ADMIN): the evidence of a period of whole UTC days as a zip holding one folder "
        "`genxsop-evidence-<from>_<to>/` with the audit log (JSON Lines and CSV), role assignments and changes, "
        "the access review of users and API tokens, publish readiness, forecast job metrics, the audit chain as "
        "of the period end and the security controls (JSON, and CSV for tables), and `manifest.json` with every "
        "file's SHA-256. Section files are byte-identical for the same data and period; only the manifest "
        "carries the time of generation. The download is audited (`governance.evidence_pack.generated`, with "
        "the period and the file hashes). `manage.py evidence_pack` writes the same files to a directory.",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=True,
                             description="First day of the period (UTC)."),
            OpenApiParameter("to", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=True,
                             description="Last day of the period (UTC), inclusive."),
        ],
        responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The zip."),
                   **error_responses(400, *READ_ERRORS)},
    )  # fmt: skip
    def get(self, request):
        period = evidence.Period.parse(request.query_params.get("from"), request.query_params.get("to"))
        folder = f"genxsop-evidence-{period.label}"
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115  (FileResponse closes it)
        sink = evidence.ZipSink(spool, folder)
        try:
            evidence.evidence_pack_write(actor=request.user, period=period, sink=sink, source="api")
            sink.close()
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return attachment(FileResponse(spool, content_type="application/zip"), f"{folder}.zip")

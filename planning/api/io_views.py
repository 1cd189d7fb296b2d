"""File import and export API (INT-20…22): thin adapters over planning.fileio."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from genxsop.api.permissions import IsAuthenticatedWithTokenScope
from genxsop.api.schema import READ_ERRORS, ErrorResponseSerializer, error_responses
from planning import filtersets, selectors
from planning.fileio import exports, imports
from planning.fileio.datasets import DATASETS
from planning.fileio.errors import FileTooLarge
from planning.fileio.writer import CONTENT_TYPES

# Headroom for the multipart framing and the small form fields around the file itself.
_MULTIPART_OVERHEAD = 64 * 1024


class _FormatIsAQueryParameter(DefaultContentNegotiation):
    """`?format=csv|xlsx` names the file format here, not a DRF renderer; errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class HasDatasetPermission(IsAuthenticatedWithTokenScope):
    """403 before anything is read: the module's view permission, or the dataset's import permissions."""

    def has_permission(self, request, view) -> bool:
        super().has_permission(request, view)
        dataset = DATASETS[view.dataset]
        needed = dataset.import_perms if view.needs_import_perms else (dataset.view_perm,)
        if not request.user.has_perms(needed):
            raise exceptions.PermissionDenied()
        return True


class _DatasetView(APIView):
    dataset = ""
    needs_import_perms = False
    permission_classes = [HasDatasetPermission]
    content_negotiation_class = _FormatIsAQueryParameter


FORMAT_PARAMETER = OpenApiParameter("format", str, OpenApiParameter.QUERY, enum=["csv", "xlsx"],
                                    description="File format (default csv).")  # fmt: skip
_FILE = OpenApiResponse(OpenApiTypes.BINARY, description="The file, CSV or XLSX as `format` asks.")
_FILE_RESPONSES = {(200, CONTENT_TYPES["csv"].split(";")[0]): _FILE, (200, CONTENT_TYPES["xlsx"]): _FILE}
_IMPORT_ERRORS = {
    **error_responses(400, 401, 403, 429),
    413: OpenApiResponse(ErrorResponseSerializer, description="PAYLOAD_TOO_LARGE: the file exceeds IMPORT_MAX_BYTES."),
    415: OpenApiResponse(
        ErrorResponseSerializer,
        description="UNSUPPORTED_MEDIA_TYPE: not a multipart upload of a readable CSV or XLSX file.",
    ),
}

FileImportResultSerializer = inline_serializer(
    "FileImportBatch",
    {
        "id": serializers.IntegerField(),
        "batch_uuid": serializers.UUIDField(),
        "operation": serializers.CharField(),
        "channel": serializers.CharField(),
        "status": serializers.CharField(help_text="completed | partial | failed | rejected (WF-80)."),
        "success": serializers.BooleanField(),
        "mode": serializers.CharField(help_text="validate | apply: what this batch did."),
        "dry_run": serializers.BooleanField(),
        "atomic": serializers.BooleanField(),
        "replayed": serializers.BooleanField(help_text="The same file was applied in the last 24 hours."),
        "processed": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "skipped": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "message": serializers.CharField(),
        "file_name": serializers.CharField(),
        "file_format": serializers.CharField(),
        "file_size": serializers.IntegerField(),
        "file_sha256": serializers.CharField(),
        "created_at": serializers.DateTimeField(),
        "completed_at": serializers.DateTimeField(allow_null=True),
        "warnings": inline_serializer(
            "FileImportWarning",
            {"code": serializers.CharField(), "column": serializers.CharField(), "message": serializers.CharField()},
            many=True,
        ),
        "errors": inline_serializer(
            "FileImportRowError",
            {
                "row": serializers.IntegerField(allow_null=True, help_text="File row number; the header is row 1."),
                "column": serializers.CharField(),
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "key": serializers.CharField(),
            },
            many=True,
        ),
    },
)
FileImportInputSerializer = inline_serializer(
    "FileImportInput",
    {
        "file": serializers.FileField(help_text="CSV (UTF-8, header row) or XLSX (first sheet, header row)."),
        "mode": serializers.ChoiceField(choices=imports.MODES, required=False, default="validate"),
        "atomic": serializers.BooleanField(required=False, default=True),
        "force": serializers.BooleanField(required=False, default=False,
                                          help_text="Apply even when the same file was applied in the last 24 hours."),
    },
)  # fmt: skip


def _filter_parameters(filterset_name: str | None) -> list[OpenApiParameter]:
    """The list endpoint's filters (a FilterSet, or a plain form of parameters), for the schema."""
    if not filterset_name:
        return []
    filterset = getattr(filtersets, filterset_name, None) or getattr(selectors, filterset_name, None)
    fields = getattr(filterset, "base_filters", None) or getattr(filterset, "base_fields", None) or {}
    return [OpenApiParameter(name, str, OpenApiParameter.QUERY, required=False,
                             description=str(getattr(f, "label", "") or ""))
            for name, f in fields.items()]  # fmt: skip


def export_view(dataset: str, *, summary: str, filterset: str | None = None):
    class ExportView(_DatasetView):
        @extend_schema(
            operation_id=f"{dataset}_export",
            summary=summary,
            description="The list's rows for the same filters and the caller's scopes, as CSV or XLSX (INT-21); "
            "text cells beginning with = + - @ get a leading single quote (INT-23). Audited.",
            parameters=[FORMAT_PARAMETER, *_filter_parameters(filterset)],
            responses={**_FILE_RESPONSES, **error_responses(400, *READ_ERRORS)},
        )
        def get(self, request):
            return exports.data_export(actor=request.user, dataset=self.dataset, params=request.query_params)

    ExportView.dataset = dataset
    ExportView.__name__ = ExportView.__qualname__ = f"{dataset.title().replace('_', '')}ExportView"
    return ExportView


def template_view(dataset: str, *, summary: str):
    class TemplateView(_DatasetView):
        needs_import_perms = True

        @extend_schema(
            operation_id=f"{dataset}_import_template",
            summary=summary,
            description="An empty file with the dataset's import columns (INT-20).",
            parameters=[FORMAT_PARAMETER],
            responses={**_FILE_RESPONSES, **error_responses(400, *READ_ERRORS)},
        )
        def get(self, request):
            return exports.import_template(actor=request.user, dataset=self.dataset,
                                           fmt=request.query_params.get("format"))  # fmt: skip

    TemplateView.dataset = dataset
    TemplateView.__name__ = TemplateView.__qualname__ = f"{dataset.title().replace('_', '')}TemplateView"
    return TemplateView


def import_view(dataset: str, *, summary: str):
    class ImportView(_DatasetView):
        needs_import_perms = True
        parser_classes = [MultiPartParser]

        @extend_schema(
            operation_id=f"{dataset}_import",
            summary=summary,
            description="Multipart upload (INT-20). `mode=validate` (default) checks every row and writes only the "
            "batch record; `mode=apply` applies, all or nothing when `atomic` (default true). Row errors name the "
            "file row (header = row 1) and column. The same file applied in the last 24 hours answers that "
            "batch with `replayed: true` unless `force=true`.",
            request={"multipart/form-data": FileImportInputSerializer},
            responses={201: FileImportResultSerializer, **_IMPORT_ERRORS},
        )
        def post(self, request):
            length = request.META.get("CONTENT_LENGTH") or "0"
            if length.isdigit() and int(length) > settings.IMPORT_MAX_BYTES + _MULTIPART_OVERHEAD:
                raise FileTooLarge(f"The file is larger than {settings.IMPORT_MAX_BYTES} bytes.",
                                   context={"max_bytes": settings.IMPORT_MAX_BYTES})  # fmt: skip
            options = imports.import_options(request.data)
            token = request.auth if hasattr(request.auth, "scopes") else None
            _, body = imports.file_import(actor=request.user, dataset=self.dataset, upload=request.FILES.get("file"),
                                          options=options, api_token=token)  # fmt: skip
            return Response(body, status=status.HTTP_201_CREATED)

    ImportView.dataset = dataset
    ImportView.__name__ = ImportView.__qualname__ = f"{dataset.title().replace('_', '')}ImportView"
    return ImportView

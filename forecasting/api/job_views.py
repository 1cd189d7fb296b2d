"""Forecast job API (API-FC-04…10): thin adapters over forecasting.selectors.jobs and services.jobs."""

from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response

from forecasting import permissions as perms
from forecasting.api import job_serializers as s
from forecasting.models import ForecastJob
from forecasting.selectors import jobs as selectors
from forecasting.services import jobs as services
from genxsop.api.schema import READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body
from genxsop.api.viewsets import ServiceViewSet

JOB_ID_PARAMETER = OpenApiParameter("job_id", OpenApiTypes.STR, OpenApiParameter.PATH,
                                    description="Public id of the job (UUID).")  # fmt: skip
_IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Up to 128 characters. The same caller repeating a key gets the job it first created (200).",
)  # fmt: skip
_LIST_PARAMETERS = [
    OpenApiParameter("limit", OpenApiTypes.INT, description="1..200 (default 50)."),
    OpenApiParameter("status", str, description="Comma-separated: queued, running, completed, failed, cancelled."),
    OpenApiParameter("requested_by", OpenApiTypes.INT, description="User id of the requester."),
    OpenApiParameter("product_id", OpenApiTypes.INT, description="The product of `generate` jobs."),
]


_SCHEMAS = {
    "generate_job": extend_schema(
        summary="Queue a forecast job",
        description="`product_id` queues a `generate` job for one series; `product_ids` or `all_active: true` a "
        "`batch_generate` job. Answers 202 with the queued job; a worker runs it (FC-70…73). With an "
        "`Idempotency-Key` already used by the caller, answers 200 with that job and queues nothing. Unknown "
        "products or products outside the caller's scope are 404; an invalid horizon, model or parameters 400.",
        parameters=[_IDEMPOTENCY_HEADER],
        request=s.GenerateJobInputSerializer,
        responses={202: s.JobSerializer, 200: s.JobSerializer, **error_responses(*WRITE_ERRORS, 404)},
    ),
    "list": extend_schema(
        summary="List forecast jobs",
        description="Newest first (OPS).",
        parameters=_LIST_PARAMETERS,
        responses={200: s.JobSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
    "metrics": extend_schema(
        summary="Forecast job metrics",
        description="FC-75 over every job row.",
        responses={200: s.JobMetricsSerializer, **error_responses(*READ_ERRORS)},
    ),
    "cleanup": extend_schema(
        summary="Delete old finished jobs",
        description="FC-76: deletes completed, failed and cancelled jobs finished more than `retention_days` ago; "
        "queued and running jobs stay, and runs produced by deleted jobs are kept.",
        request=s.CleanupInputSerializer,
        responses={200: s.CleanupResultSerializer, **error_responses(*WRITE_ERRORS)},
    ),
    "retrieve": extend_schema(
        summary="Get a forecast job",
        description="The requester and OPS see a job with its result (FC-73); anyone else gets 404.",
        parameters=[JOB_ID_PARAMETER],
        responses={200: s.JobDetailSerializer, **error_responses(*READ_ERRORS, 404)},
    ),
    "cancel": extend_schema(
        summary="Cancel a forecast job",
        description="A queued job is cancelled at once; a running one gets `cancel_requested_at` and stops at its "
        "next checkpoint, keeping what it already committed (FC-72). A finished job is 409 INVALID_STATE_TRANSITION.",
        parameters=[JOB_ID_PARAMETER],
        request=None,
        responses={200: s.JobSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    ),
    "retry": extend_schema(
        summary="Retry a forecast job",
        description="Queues a new job with the same parameters and `retry_of` = this job; only failed or "
        "cancelled jobs (else 409).",
        parameters=[JOB_ID_PARAMETER],
        request=None,
        responses={202: s.JobSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    ),
}


@extend_schema_view(list=_SCHEMAS["list"], retrieve=_SCHEMAS["retrieve"])
class ForecastJobViewSet(ServiceViewSet):
    """Durable background forecasting (FC-04, WF-21)."""

    serializer_class = s.JobSerializer
    detail_serializer_class = s.JobDetailSerializer
    pagination_class = None
    filter_backends = []
    action_permissions = {
        "generate_job": perms.ADD_JOB,
        "list": perms.MANAGE_JOBS,
        "metrics": perms.MANAGE_JOBS,
        "cleanup": perms.MANAGE_JOBS,
        "cancel": perms.MANAGE_JOBS,
        "retry": perms.MANAGE_JOBS,
        # retrieve: the requester or OPS, decided by the selector (404 for anyone else)
    }

    def get_queryset(self):  # only for schema generation; reads go through the selectors
        return ForecastJob.objects.none()

    def _job(self):
        return selectors.forecast_job_get(user=self.request.user, job_id=self.kwargs["job_id"])

    @_SCHEMAS["generate_job"]
    def generate_job(self, request):
        data = validated_body(s.GenerateJobInputSerializer, request.data)
        job, created = services.forecast_job_create(
            actor=request.user, idempotency_key=request.headers.get("Idempotency-Key"), **data
        )
        return Response(s.JobSerializer(job).data, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)

    def list(self, request):
        jobs = selectors.forecast_job_list(user=request.user, filters=request.query_params)
        return Response(s.JobSerializer(jobs, many=True).data)

    @_SCHEMAS["metrics"]
    def metrics(self, request):
        return Response(s.JobMetricsSerializer(services.forecast_job_metrics(actor=request.user)).data)

    @_SCHEMAS["cleanup"]
    def cleanup(self, request):
        data = validated_body(s.CleanupInputSerializer, request.data)
        return Response(s.CleanupResultSerializer(services.forecast_jobs_cleanup(actor=request.user, **data)).data)

    def retrieve(self, request, job_id):
        return Response(s.JobDetailSerializer(self._job()).data)

    @_SCHEMAS["cancel"]
    def cancel(self, request, job_id):
        job = services.forecast_job_cancel(actor=request.user, job=self._job())
        return Response(s.JobSerializer(job).data)

    @_SCHEMAS["retry"]
    def retry(self, request, job_id):
        job = services.forecast_job_retry(actor=request.user, job=self._job())
        return Response(s.JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

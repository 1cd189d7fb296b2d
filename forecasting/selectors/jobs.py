"""Forecast job reads (API-FC-05, API-FC-08): OPS see every job, a requester sees their own."""

from django.db.models import QuerySet

from forecasting import permissions as perms
from forecasting.choices import JobStatus
from forecasting.models import ForecastJob
from genxsop.errors import NotFound, PermissionDenied, ValidationFailed

__all__ = ["forecast_job_get", "forecast_job_list", "forecast_job_page"]

JOB_LIST_MAX = 200
JOB_LIST_DEFAULT = 50


def _base() -> QuerySet[ForecastJob]:
    return ForecastJob.objects.select_related("requested_by", "retry_of")


def _int(filters: dict, name: str, *, low: int = 1, high: int | None = None) -> int | None:
    raw = filters.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed(fields={name: ["Must be an integer."]}, code="INVALID_PARAMETER") from None
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise ValidationFailed(fields={name: [f"Must be {bound}."]}, code="INVALID_PARAMETER")
    return value


def forecast_job_list(*, user, filters: dict | None = None) -> list[ForecastJob]:
    """Newest first, at most `limit` (1..200, default 50); `status`, `requested_by`, `product_id` filter."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.has_perm(perms.MANAGE_JOBS):
        raise PermissionDenied()
    filters = filters or {}
    queryset = _base().order_by("-created_at", "-id")
    status = filters.get("status")
    if status:
        wanted = [s.strip() for s in str(status).split(",") if s.strip()]
        bad = [s for s in wanted if s not in JobStatus.values]
        if bad:
            raise ValidationFailed(fields={"status": [f"Unknown status: {', '.join(bad)}."]}, code="INVALID_PARAMETER")
        queryset = queryset.filter(status__in=wanted)
    requester = _int(filters, "requested_by")
    if requester is not None:
        queryset = queryset.filter(requested_by_id=requester)
    product = _int(filters, "product_id")
    if product is not None:
        queryset = queryset.filter(product_id=product)
    limit = _int(filters, "limit", high=JOB_LIST_MAX) or JOB_LIST_DEFAULT
    return list(queryset[:limit])


def forecast_job_get(*, user, job_id: str) -> ForecastJob:
    """The job if `user` requested it or manages jobs; 404 otherwise (its existence is not revealed)."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied("Authentication is required.")
    queryset = _base().filter(job_id=str(job_id))
    if not user.has_perm(perms.MANAGE_JOBS):
        queryset = queryset.filter(requested_by=user)
    job = queryset.first()
    if job is None:
        raise NotFound("Forecast job not found.")
    return job


def forecast_job_page(
    *, user, all_jobs: bool = False, status: str | None = None, product=None
) -> QuerySet[ForecastJob]:
    """The console's job list, unsliced for pagination: the caller's own jobs, or every job for OPS
    when `all_jobs` (FC-72 visibility)."""
    queryset = _base().select_related("product")
    if not (all_jobs and user.has_perm(perms.MANAGE_JOBS)):
        queryset = queryset.filter(requested_by=user)
    if status:
        queryset = queryset.filter(status=status)
    if product:
        queryset = queryset.filter(product=product)
    return queryset.order_by("-created_at", "-id")

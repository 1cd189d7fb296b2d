"""Enumerations and transition maps of the forecasting app (spec §2.2, §3.3)."""

from django.db import models

ENGINE_VERSION = "genxsop-engine-1"
TOTAL_REGION = "Global"  # the product-total series key (FC-10)
TOTAL_CHANNEL = "All"


class DemandPattern(models.TextChoices):
    SMOOTH = "smooth", "Smooth"
    ERRATIC = "erratic", "Erratic"
    INTERMITTENT = "intermittent", "Intermittent"
    LUMPY = "lumpy", "Lumpy"
    INACTIVE = "inactive", "Inactive"


class RunSource(models.TextChoices):
    INTERACTIVE = "interactive", "Interactive"
    JOB = "job", "Job"
    SCHEDULE = "schedule", "Schedule"
    DEMO = "demo", "Demo"


class IntervalMethod(models.TextChoices):
    CONFORMAL = "conformal", "Conformal (own backtest errors)"
    CONFORMAL_POOLED = "conformal_pooled", "Conformal (pooled backtest errors)"
    CONFORMAL_PARTIAL = "conformal_partial", "Conformal where errors allow, model band elsewhere"
    BAND = "band", "Model band"
    ZERO = "zero", "Zero (inactive series)"


class ConsensusStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    FROZEN = "frozen", "Frozen"
    SUPERSEDED = "superseded", "Superseded"


# WF-20: action -> {from_status: to_status}; `delete` removes the rows (None). supersede and freeze
# are system actions with no endpoint.
CONSENSUS_TRANSITIONS: dict[str, dict[str, str | None]] = {
    "edit": {"draft": "draft", "proposed": "draft"},
    "propose": {"draft": "proposed"},
    "return": {"proposed": "draft"},
    "approve": {"proposed": "approved"},
    "supersede": {"approved": "superseded", "frozen": "superseded"},
    "freeze": {"approved": "frozen"},
    "delete": {"draft": None},
}


class JobKind(models.TextChoices):
    GENERATE = "generate", "Generate (one series)"
    BATCH_GENERATE = "batch_generate", "Batch generate"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


JOB_TERMINAL = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)

# WF-21: action -> {from_status: to_status}. request_cancel keeps a running job running with
# cancel_requested_at set; retry creates a new job and leaves the source unchanged.
JOB_TRANSITIONS: dict[str, dict[str, str]] = {
    "start": {"queued": "running"},
    "complete": {"running": "completed"},
    "fail": {"running": "failed"},
    "requeue": {"running": "queued"},
    "cancel": {"queued": "cancelled", "running": "cancelled"},
    "request_cancel": {"running": "running"},
    "retry": {"failed": "failed", "cancelled": "cancelled"},
}


class JobErrorCode(models.TextChoices):
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA", "Insufficient data"
    TIMEOUT = "TIMEOUT", "Timeout"
    WORKER_LOST = "WORKER_LOST", "Worker lost"
    INTERNAL_ERROR = "INTERNAL_ERROR", "Internal error"
    CANCELLED = "CANCELLED", "Cancelled"


class AnomalyMethod(models.TextChoices):
    ZSCORE = "zscore", "z-score"
    IQR = "iqr", "Interquartile range"


class AnomalyDirection(models.TextChoices):
    SPIKE = "spike", "Spike"
    DROP = "drop", "Drop"


class AnomalySeverity(models.TextChoices):
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class AnomalyStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    CORRECTED = "corrected", "Corrected"
    DISMISSED = "dismissed", "Dismissed"


# WF-22: action -> {from_status: to_status}.
ANOMALY_TRANSITIONS: dict[str, dict[str, str]] = {
    "acknowledge": {"open": "acknowledged"},
    "correct": {"open": "corrected", "acknowledged": "corrected"},
    "dismiss": {"open": "dismissed", "acknowledged": "dismissed"},
    "reopen": {"corrected": "open", "dismissed": "open"},
}


class AccuracyLayer(models.TextChoices):
    NAIVE = "naive", "Seasonal naive"
    STATISTICAL = "statistical", "Statistical"
    CONSENSUS = "consensus", "Consensus"

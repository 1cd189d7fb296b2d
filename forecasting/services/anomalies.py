"""Anomaly services (FC-05, FC-56, FC-57, WF-22): detection on raw actuals and triage.

Detection is vectorised across series: histories are padded into one matrix (NaN beyond each
series' length) and scored in numpy; results are upserted set-based by (series, period, method).
"""

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from django.db import transaction
from django.utils import timezone

from forecasting import permissions as perms
from forecasting.choices import (
    ANOMALY_TRANSITIONS,
    AnomalyDirection,
    AnomalyMethod,
    AnomalySeverity,
    AnomalyStatus,
)
from forecasting.models import ForecastAnomaly
from forecasting.series import SeriesHistory, SeriesKey, active_total_keys, load_histories
from genxsop.errors import InvalidStateTransition, NotFound, ValidationFailed
from genxsop.services import require_perm, snapshot
from governance import audit, bus
from planning.models import Product

__all__ = [
    "ANOMALY_DEFAULT_THRESHOLDS",
    "anomalies_detect",
    "anomalies_scan_active",
    "anomaly_allowed_actions",
    "anomaly_transition",
    "detect_matrix",
]

ANOMALY_DEFAULT_THRESHOLDS = {AnomalyMethod.ZSCORE: 2.5, AnomalyMethod.IQR: 1.5}
ZSCORE_MIN_POINTS = 6
ZSCORE_HIGH = 3.5
IQR_HIGH = 3.0
SUGGESTED = {AnomalyDirection.SPIKE: "Investigate demand spike", AnomalyDirection.DROP: "Investigate demand drop"}
# Re-detection refreshes these statuses only; corrected and dismissed rows keep their decision (WF-22).
REFRESHED_STATUSES = (AnomalyStatus.OPEN, AnomalyStatus.ACKNOWLEDGED)
_DETECTED_FIELDS = ["value", "expected", "z_score", "direction", "severity", "suggested_action"]
_STATUS_FOR_ACTION = {"acknowledge": "acknowledged", "correct": "corrected", "dismiss": "dismissed", "reopen": "open"}
_ACTION_FOR_STATUS = {v: k for k, v in _STATUS_FOR_ACTION.items()}
_PAST = {"acknowledge": "acknowledged", "correct": "corrected", "dismiss": "dismissed", "reopen": "reopened"}
DETECTED = "forecasting.anomaly.detected"
REDETECTED = "forecasting.anomaly.updated"
Z_LIMIT = Decimal("9999.9999")


def _dec(value: float, places: str = "0.01") -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def detect_matrix(values: np.ndarray, method: str, threshold: float):
    """FC-56 on a (series x months) matrix padded with NaN.

    zscore: series with fewer than 6 points or sigma = 0 (population) have none; anomaly when |z| >
    threshold, high when |z| > 3.5; expected = mean. iqr: quartiles by linear interpolation;
    anomaly outside [Q1 - k*IQR, Q3 + k*IQR], high beyond 3*IQR; expected = median.
    Returns (anomaly mask, high mask, expected per series, z matrix or None).
    """
    values = np.asarray(values, dtype=float)
    present = ~np.isnan(values)
    counts = present.sum(axis=1)
    if values.size == 0 or not counts.any():
        empty = np.zeros(values.shape, dtype=bool)
        return empty, empty, np.zeros(values.shape[0]), None
    with np.errstate(all="ignore"):
        filled = np.where(present, values, 0.0)
        if method == AnomalyMethod.ZSCORE:
            mean = filled.sum(axis=1) / np.maximum(counts, 1)
            deviation = np.where(present, values - mean[:, None], 0.0)
            sigma = np.sqrt((deviation**2).sum(axis=1) / np.maximum(counts, 1))
            usable = (counts >= ZSCORE_MIN_POINTS) & (sigma > 0)
            z = np.where(usable[:, None] & present, deviation / np.where(sigma > 0, sigma, 1.0)[:, None], np.nan)
            magnitude = np.abs(np.nan_to_num(z, nan=0.0))
            anomaly = usable[:, None] & present & (magnitude > threshold)
            high = anomaly & (magnitude > ZSCORE_HIGH)
            return anomaly, high, mean, z
        usable = counts > 0
        safe = np.where(usable[:, None], values, 0.0)
        q1 = np.nanpercentile(safe, 25, axis=1)
        q3 = np.nanpercentile(safe, 75, axis=1)
        median = np.nanmedian(safe, axis=1)
        spread = q3 - q1
        below = present & (values < (q1 - threshold * spread)[:, None])
        above = present & (values > (q3 + threshold * spread)[:, None])
        anomaly = usable[:, None] & (below | above)
        far = present & ((values < (q1 - IQR_HIGH * spread)[:, None]) | (values > (q3 + IQR_HIGH * spread)[:, None]))
        return anomaly, anomaly & far, median, None


def _validate(method: str, threshold) -> float:
    if method not in AnomalyMethod.values:
        raise ValidationFailed(fields={"method": [f"One of {', '.join(AnomalyMethod.values)}."]})
    if threshold is None:
        return ANOMALY_DEFAULT_THRESHOLDS[method]
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = -1.0
    if not np.isfinite(value) or value <= 0:
        raise ValidationFailed(fields={"threshold": ["A positive number."]})
    return value


def _findings(histories: list[SeriesHistory], method: str, threshold: float) -> list[dict]:
    """The anomalies of `histories` as dicts of the detected fields, in series then period order."""
    histories = [h for h in histories if len(h.periods)]
    if not histories:
        return []
    lengths = np.array([len(h.periods) for h in histories])
    matrix = np.full((len(histories), int(lengths.max())), np.nan)
    # Row-major fill: each series' months land left-aligned in its row, NaN after its end.
    filled = np.arange(matrix.shape[1]) < lengths[:, None]
    matrix[filled] = np.concatenate([np.asarray(h.raw, float) for h in histories])
    anomaly, high, expected, z = detect_matrix(matrix, method, threshold)
    out = []
    for i, j in zip(*np.nonzero(anomaly), strict=True):
        history = histories[int(i)]
        value = float(matrix[i, j])
        direction = AnomalyDirection.SPIKE if value > expected[i] else AnomalyDirection.DROP
        z_value = None
        if z is not None:
            z_value = max(-Z_LIMIT, min(Z_LIMIT, _dec(z[i, j], "0.0001")))
        out.append({
            "key": history.key, "period": history.periods[int(j)], "value": _dec(value),
            "expected": _dec(expected[i]), "z_score": z_value, "direction": direction,
            "severity": AnomalySeverity.HIGH if high[i, j] else AnomalySeverity.MEDIUM,
            "suggested_action": SUGGESTED[direction],
        })  # fmt: skip
    return out


def _upsert(findings: list[dict], *, actor, job, method: str) -> tuple[list[ForecastAnomaly], int]:
    """WF-22 upsert: new findings are open rows; open or acknowledged rows get the new value, z and
    severity; corrected and dismissed rows are left alone. Three statements and one audit insert."""
    if not findings:
        return [], 0
    now = timezone.now()
    existing = {
        (a.product_id, a.region, a.channel, a.period): a
        for a in ForecastAnomaly.objects.select_for_update().filter(
            product_id__in={f["key"].product_id for f in findings}, method=method,
            region__in={f["key"].region for f in findings}, channel__in={f["key"].channel for f in findings},
            period__in={f["period"] for f in findings},
        )
    }  # fmt: skip
    created, updated, rows, entries = [], [], [], []
    for finding in findings:
        key = finding["key"]
        detected = {k: finding[k] for k in _DETECTED_FIELDS}
        row = existing.get((key.product_id, key.region, key.channel, finding["period"]))
        if row is None:
            row = ForecastAnomaly(product_id=key.product_id, region=key.region, channel=key.channel,
                                  period=finding["period"], method=method, status=AnomalyStatus.OPEN,
                                  detected_at=now, detected_by=actor, job=job, **detected)  # fmt: skip
            created.append(row)
        elif row.status in REFRESHED_STATUSES:
            before = snapshot(row, _DETECTED_FIELDS)
            for name, value in detected.items():
                setattr(row, name, value)
            row.detected_at = now
            after = snapshot(row, _DETECTED_FIELDS)
            if after != before:
                updated.append(row)
                entries.append({"actor": actor, "event_type": REDETECTED, "target": row, "before": before,
                                "after": after, "metadata": {"method": method}})  # fmt: skip
        rows.append(row)
    if created:
        ForecastAnomaly.objects.bulk_create(created)
        metadata = {"method": method, "job_id": getattr(job, "job_id", None)}
        entries += [{"actor": actor, "event_type": DETECTED, "target": r, "after": snapshot(r), "metadata": metadata}
                    for r in created]  # fmt: skip
    if updated:
        ForecastAnomaly.objects.bulk_update(updated, [*_DETECTED_FIELDS, "detected_at", "updated_at"])
    if entries:
        audit.record_many(entries)
    if any(r.severity == AnomalySeverity.HIGH for r in created):
        bus.publish_on_commit(DETECTED, anomaly_ids=[r.pk for r in created], high=True)
    return rows, len(created) + len(updated)


@transaction.atomic
def anomalies_detect(*, actor, key: SeriesKey, method: str = AnomalyMethod.ZSCORE,
                     threshold: float | None = None) -> list[ForecastAnomaly]:  # fmt: skip
    """FC-56 (API-FC-23): detect anomalies in the series' raw actuals and upsert them (WF-22).

    Needs detect permission in the product's scope. Returns the stored rows of every period found
    anomalous now, in period order (a dismissed one keeps its status).
    """
    require_perm(actor, perms.DETECT_ANOMALIES)
    threshold = _validate(method, threshold)
    product = Product.objects.select_related("category").filter(pk=key.product_id).first()
    if product is None:
        raise NotFound("Product not found.")
    require_perm(actor, perms.DETECT_ANOMALIES, ForecastAnomaly(product=product))
    history = load_histories([key], use_corrections=False)[key]
    rows, _ = _upsert(_findings([history], method, threshold), actor=actor, job=None, method=method)
    return sorted(rows, key=lambda r: r.period)


@transaction.atomic
def anomalies_scan_active(*, actor=None, job=None) -> int:
    """FC-57: zscore detection over every active product total, set-based (one history read, one upsert).
    Runs as the system (actor None) from the nightly schedule. Returns the rows created or refreshed."""
    if actor is not None:
        require_perm(actor, perms.DETECT_ANOMALIES)
    keys = active_total_keys()
    if not keys:
        return 0
    histories = load_histories(keys, use_corrections=False)
    method = AnomalyMethod.ZSCORE
    findings = _findings([histories[k] for k in keys], method, ANOMALY_DEFAULT_THRESHOLDS[method])
    _, changed = _upsert(findings, actor=actor, job=job, method=method)
    return changed


def anomaly_allowed_actions(*, user, anomaly: ForecastAnomaly) -> list[str]:
    if not user.has_perm(perms.TRIAGE_ANOMALY):
        return []
    return [a for a, moves in ANOMALY_TRANSITIONS.items() if anomaly.status in moves]


@transaction.atomic
def anomaly_transition(*, actor, anomaly: ForecastAnomaly, status: str, corrected_value=None,
                       notes: str = "") -> ForecastAnomaly:  # fmt: skip
    """WF-22 (API-FC-25): acknowledge, correct (`corrected_value` >= 0 required), dismiss (a note
    required) or reopen, chosen by the target `status`. The same status only updates the notes."""
    require_perm(actor, perms.TRIAGE_ANOMALY, anomaly)
    notes = (notes or "").strip()
    if status not in AnomalyStatus.values:
        raise ValidationFailed(fields={"status": [f"One of {', '.join(AnomalyStatus.values)}."]})
    row = ForecastAnomaly.objects.select_for_update().select_related("product").get(pk=anomaly.pk)
    before = snapshot(row)
    if status == row.status:
        if notes and notes != row.notes:
            row.notes = notes
            row.save(update_fields=["notes", "updated_at"])
            audit.record(actor=actor, event_type=REDETECTED, target=row, before=before, after=snapshot(row))
        return row
    action = _ACTION_FOR_STATUS[status]
    moves = ANOMALY_TRANSITIONS[action]
    if row.status not in moves:
        allowed = [_STATUS_FOR_ACTION[a] for a, m in ANOMALY_TRANSITIONS.items() if row.status in m]
        raise InvalidStateTransition(
            f"A {row.status} anomaly cannot be {_PAST[action]}.",
            context={"current_status": row.status, "action": action, "allowed_actions": [
                a for a, m in ANOMALY_TRANSITIONS.items() if row.status in m], "allowed_statuses": allowed},
        )  # fmt: skip
    if action == "correct":
        if corrected_value is None:
            raise ValidationFailed(fields={"corrected_value": ["Required to correct an anomaly."]})
        if Decimal(str(corrected_value)) < 0:
            raise ValidationFailed(fields={"corrected_value": ["Must be 0 or more."]})
        row.corrected_value = Decimal(str(corrected_value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if action == "dismiss" and not notes:
        raise ValidationFailed(fields={"notes": ["A note is required to dismiss an anomaly."]})
    if notes:
        row.notes = notes
    if action in ("correct", "dismiss"):
        row.resolved_by, row.resolved_at = actor, timezone.now()
    elif action == "reopen":
        row.resolved_by, row.resolved_at, row.corrected_value = None, None, None
    row.status = moves[row.status]
    row.save()
    event = f"forecasting.anomaly.{_PAST[action]}"
    audit.record(actor=actor, event_type=event, target=row, before=before, after=snapshot(row), message=notes,
                 metadata={"action": action})  # fmt: skip
    bus.publish_on_commit(event, anomaly_id=row.pk, product_id=row.product_id)
    return row

"""Publish policies (GOV-14, API-GOV-17/18): the thresholds of each lane, edited by administrators.

An evaluation copies the policy into its `policy_snapshot`, so a change applies to the next
evaluation only and past Go/No-Go results stay explainable.
"""

from django.db import transaction

from genxsop.errors import NotFound, ValidationFailed
from genxsop.services import model_update, require_perm, snapshot
from governance import audit, events
from governance.choices import Lane
from governance.models import PublishPolicy
from governance.permissions import CHANGE_PUBLISH_POLICY

CHANGE_POLICY = CHANGE_PUBLISH_POLICY
EDITABLE_FIELDS = [
    "horizon_min", "horizon_max", "freeze_days", "freeze_months", "required_score", "mape_threshold_pct",
    "bias_threshold_pct", "accuracy_lag", "accuracy_window_months", "inventory_max_age_hours",
    "inventory_freshness_min_pct", "actuals_coverage_min_pct", "is_active",
]  # fmt: skip
LANE_UNITS = {Lane.WEEKLY: "weeks", Lane.MONTHLY: "months"}


# GOV-14 defaults; migration 0009 seeds the same values (migrations keep their own frozen copy).
DEFAULTS = {
    Lane.WEEKLY: {"horizon_unit": "weeks", "horizon_min": 4, "horizon_max": 8, "freeze_days": 14, "freeze_months": 0,
                  "required_score": 4, "mape_threshold_pct": 20, "bias_threshold_pct": 5, "accuracy_lag": 1,
                  "accuracy_window_months": 6, "inventory_max_age_hours": 24, "inventory_freshness_min_pct": 95,
                  "actuals_coverage_min_pct": 95},
    Lane.MONTHLY: {"horizon_unit": "months", "horizon_min": 6, "horizon_max": 18, "freeze_days": 0,
                   "freeze_months": 1, "required_score": 3, "mape_threshold_pct": 30, "bias_threshold_pct": 10,
                   "accuracy_lag": 3, "accuracy_window_months": 6, "inventory_max_age_hours": 72,
                   "inventory_freshness_min_pct": 95, "actuals_coverage_min_pct": 95},
}  # fmt: skip


def publish_policies_ensure() -> int:
    """Create a lane's policy with the GOV-14 defaults when it is missing; existing rows are never
    touched. Runs after every `migrate` and `flush`. Returns the number created."""
    created = 0
    for lane, values in DEFAULTS.items():
        created += PublishPolicy.objects.get_or_create(lane=lane, defaults=values)[1]
    return created


def publish_policy_list():
    return PublishPolicy.objects.select_related("updated_by").order_by("lane")


def publish_policy_get(lane: str) -> PublishPolicy:
    policy = PublishPolicy.objects.filter(lane=lane).first()
    if policy is None:
        raise NotFound("Publish policy not found.")
    return policy


def _validate(policy: PublishPolicy, data: dict) -> None:
    errors: dict[str, list[str]] = {}
    unit = data.get("horizon_unit")
    if unit is not None and unit != LANE_UNITS[policy.lane]:
        errors["horizon_unit"] = [f"The {policy.lane} lane counts its horizon in {LANE_UNITS[policy.lane]}."]
    merged = {name: data.get(name, getattr(policy, name)) for name in EDITABLE_FIELDS}
    low, high = merged["horizon_min"], merged["horizon_max"]
    if low is not None and high is not None and low > high:
        errors["horizon_min"] = ["Must not exceed horizon_max."]
    for name in ("horizon_min", "accuracy_lag", "accuracy_window_months", "inventory_max_age_hours"):
        if merged[name] is not None and merged[name] < 1:
            errors.setdefault(name, []).append("Must be at least 1.")
    for name in ("mape_threshold_pct", "bias_threshold_pct"):
        if merged[name] is not None and merged[name] <= 0:
            errors.setdefault(name, []).append("Must be greater than 0.")
    for name in ("inventory_freshness_min_pct", "actuals_coverage_min_pct"):
        if merged[name] is not None and not 0 < merged[name] <= 100:
            errors.setdefault(name, []).append("Must be greater than 0 and at most 100.")
    if merged["required_score"] is not None and not 0 <= merged["required_score"] <= 4:
        errors.setdefault("required_score", []).append("Must be between 0 and 4.")
    if merged["accuracy_lag"] is not None and merged["accuracy_lag"] > 24:
        errors.setdefault("accuracy_lag", []).append("Must be at most 24.")
    if errors:
        raise ValidationFailed(fields=errors)


@transaction.atomic
def publish_policy_update(*, actor, lane: str, data: dict) -> PublishPolicy:
    """API-GOV-18: change a lane's thresholds (administrators); audited `governance.publish_policy.updated`."""
    require_perm(actor, CHANGE_POLICY)
    if lane not in Lane.values:
        raise NotFound("Publish policy not found.")
    policy = PublishPolicy.objects.select_for_update().filter(lane=lane).first()
    if policy is None:
        raise NotFound("Publish policy not found.")
    _validate(policy, data)
    before = snapshot(policy)
    values = {name: data[name] for name in EDITABLE_FIELDS if name in data}
    policy, changed = model_update(instance=policy, data=values, fields=EDITABLE_FIELDS)
    if not changed:
        return policy
    policy.updated_by = actor
    policy.save(update_fields=["updated_by", "updated_at"])
    audit.record(
        actor=actor,
        event_type=events.PUBLISH_POLICY_UPDATED,
        target=policy,
        before={name: before[name] for name in changed},
        after={name: snapshot(policy)[name] for name in changed},
        metadata={"lane": lane, "changed": changed},
    )
    return policy

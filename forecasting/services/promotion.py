"""Writing forecasts into demand plans: promotion (FC-33) and the targets and split that consensus
approval shares with it (FC-32, FRM-29).

Plan rows are written through the plan engine (`planning.services.plans`) with the demand-plan kind
authorised by the forecasting permission of the operation, so each change is a normal new plan
version (WF-12) with its audit row and event, recorded against the real actor.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum

from forecasting import permissions as perms
from forecasting.choices import TOTAL_CHANNEL, TOTAL_REGION
from forecasting.models import Forecast, ForecastRun
from forecasting.series import add_months, last_closed_month
from genxsop.errors import NotFound, ValidationFailed
from genxsop.services import require_perm
from governance import audit, bus
from planning.choices import PlanSource, PlanStatus
from planning.models import DemandPlan, Product
from planning.services import plans
from planning.services.demand import check_granularity, demand_plan_kind_authorised_by

__all__ = ["PROMOTION_COMPLETED", "disaggregate", "forecast_promote", "split_quantity"]

PROMOTION_COMPLETED = "forecasting.promotion.completed"
CENT = Decimal("0.01")
WEIGHT_MONTHS = 12
MAX_HORIZON = 24
# Plan states a forecast may never overwrite: promotion skips them, consensus approval refuses them.
PROMOTION_SKIPPED_STATES = (PlanStatus.SUBMITTED, PlanStatus.APPROVED, PlanStatus.LOCKED)


def money(value) -> Decimal:
    """2 dp, half up (§7 notation)."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


# FRM-29 -----------------------------------------------------------------------------------------


def split_quantity(total, weights: list, ids: list[int]) -> list[Decimal]:
    """FRM-29 on given weights: share_r = Q * w_r / Σw at 2 dp, the rounding remainder to the row with the
    largest weight (ties: lowest id); equal weights when every weight is 0."""
    total = money(total)
    if not ids:
        return []
    weights = [Decimal(str(w or 0)) for w in weights]
    if sum(weights) == 0:
        weights = [Decimal(1)] * len(ids)
    weight_sum = sum(weights)
    shares = [money(total * w / weight_sum) for w in weights]
    remainder = total - sum(shares)
    if remainder:
        heaviest = min(range(len(ids)), key=lambda i: (-weights[i], ids[i]))
        shares[heaviest] += remainder
    return shares


def actual_weights(product_ids, today: datetime.date | None = None) -> dict[tuple[int, str, str], Decimal]:
    """Σ actuals per (product, region, channel) over the last 12 closed months: one query."""
    last = last_closed_month(today)
    rows = (
        DemandPlan.objects.filter(product_id__in=list(product_ids), is_current=True, actual_qty__isnull=False,
                                  period__gte=add_months(last, 1 - WEIGHT_MONTHS), period__lte=last)
        .values("product_id", "region", "channel")
        .annotate(total=Sum("actual_qty"))
    )  # fmt: skip
    return {(r["product_id"], r["region"], r["channel"]): r["total"] or Decimal(0) for r in rows}


def _demand_qty(plan: DemandPlan) -> Decimal:
    """FRM-01: consensus, else adjusted, else forecast."""
    for value in (plan.consensus_qty, plan.adjusted_qty, plan.forecast_qty):
        if value is not None:
            return Decimal(value)
    return Decimal(0)


def disaggregate(total, rows: list[DemandPlan], *, weights: dict | None = None,
                 today: datetime.date | None = None) -> dict[int, Decimal]:  # fmt: skip
    """FRM-29: a product-total quantity split across the product's current detail rows of one period.

    Weights are the rows' actuals over the last 12 closed months; when all are 0, their FRM-01
    quantity; when still 0, equal. Returns {plan id: share}; the shares add up to `total` exactly.
    """
    if not rows:
        return {}
    if weights is None:
        weights = actual_weights({r.product_id for r in rows}, today)
    ids = [r.pk for r in rows]
    values = [weights.get((r.product_id, r.region, r.channel), Decimal(0)) for r in rows]
    if sum(values) == 0:
        values = [_demand_qty(r) for r in rows]
    return dict(zip(ids, split_quantity(total, values, ids), strict=True))


# Targets (FC-32, FC-33) --------------------------------------------------------------------------


@dataclass
class Target:
    """One demand plan row a forecast quantity goes to: an existing row, or a draft still to create."""

    period: datetime.date
    region: str
    channel: str
    qty: Decimal
    plan: DemandPlan | None = None
    extra: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        where = f"{self.region}/{self.channel}"
        return f"demand plan {self.plan.pk} ({where})" if self.plan else f"a new demand plan ({where})"


def current_plans(product_id: int, periods: list[datetime.date], *, lock: bool = False) -> dict:
    """The current demand plan rows of a product for `periods`, by period: one query (locked when asked)."""
    queryset = DemandPlan.objects.filter(product_id=product_id, period__in=periods, is_current=True).order_by("pk")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    out: dict[datetime.date, list[DemandPlan]] = defaultdict(list)
    for plan in queryset:
        out[plan.period].append(plan)
    return out


def plan_targets(*, product_id: int, region: str, channel: str, period: datetime.date, qty,
                 rows: list[DemandPlan], weights: dict) -> list[Target]:  # fmt: skip
    """FC-32: where a series-period quantity goes. A detail key goes to the row with exactly that key;
    the product total is split by FRM-29 across detail rows when the period has them, else it goes to
    the total row. A missing row is a target without `plan` (created as a draft)."""
    qty = money(qty)
    is_total = region == TOTAL_REGION and channel == TOTAL_CHANNEL
    if not is_total:
        match = next((r for r in rows if r.region == region and r.channel == channel), None)
        return [Target(period, region, channel, qty, match)]
    details = [r for r in rows if not (r.region == TOTAL_REGION and r.channel == TOTAL_CHANNEL)]
    if details:
        shares = disaggregate(qty, details, weights=weights)
        return [Target(period, r.region, r.channel, shares[r.pk], r) for r in details]
    total = next((r for r in rows if r.region == TOTAL_REGION and r.channel == TOTAL_CHANNEL), None)
    return [Target(period, region, channel, qty, total)]


def write_target(kind, *, actor, product: Product, target: Target, update: dict, create: dict, source: str,
                 change_reason: str) -> DemandPlan:  # fmt: skip
    """Apply `update` to the target's row (a new version, WF-12) or create it as a draft with `create`."""
    if target.plan is None:
        plan = DemandPlan(
            product_id=product.pk, period=target.period, region=target.region, channel=target.channel,
            source=source, change_reason=change_reason, **create,
        )  # fmt: skip

        def guard(row):
            check_granularity(product_id=row.product_id, period=row.period, region=row.region, channel=row.channel)

        return plans.plan_create(kind, actor=actor, plan=plan, guard=guard)
    return plans.plan_update(kind, actor=actor, plan=target.plan, data={**update, "change_reason": change_reason},
                             source=source)  # fmt: skip


# FC-33 -------------------------------------------------------------------------------------------


def _promotion_run(*, actor, product: Product, region: str, channel: str, selected_model: str,
                   run_id: int | None) -> ForecastRun:  # fmt: skip
    runs = ForecastRun.objects.for_user(actor).filter(product_id=product.pk)
    if run_id is not None:
        run = runs.filter(pk=run_id).first()
        if run is None:
            raise NotFound("Forecast run not found for this product.")
        return run
    run = (
        runs.filter(region=region, channel=channel, model_used=selected_model, discarded_at__isnull=True,
                    results__discarded_at__isnull=True)
        .order_by("-created_at", "-pk")
        .first()
    )  # fmt: skip
    if run is None:
        raise NotFound(f"No forecast results for model {selected_model!r} on this series.")
    return run


def _note_line(model: str, notes: str) -> str:
    return f"[ForecastPromotion] model={model}; user_note={notes}"


@transaction.atomic
def forecast_promote(*, actor, product: Product, selected_model: str, horizon: int = 6, notes: str = "",
                     region: str | None = None, channel: str | None = None, run_id: int | None = None,
                     set_consensus: bool = False) -> dict:  # fmt: skip
    """FC-33: write a run's first `horizon` predictions into the demand plan as new plan versions.

    The run is `run_id`, else the latest non-discarded run of the series whose model_used is
    `selected_model` (404 when none). Each period's target rows follow FC-32 (totals split by
    FRM-29 across detail rows); `forecast_qty`, `confidence` and, with `set_consensus`,
    `consensus_qty` are set, and a `[ForecastPromotion]` line is appended to the notes. Rows that are
    submitted, approved or locked are reported in `skipped` and never changed; missing rows are
    created as drafts. Needs the promote permission in the product's scope.
    """
    require_perm(actor, perms.PROMOTE, product)
    if not 1 <= int(horizon) <= MAX_HORIZON:
        raise ValidationFailed(fields={"horizon": [f"Between 1 and {MAX_HORIZON}."]})
    region = (region or TOTAL_REGION).strip() or TOTAL_REGION
    channel = (channel or TOTAL_CHANNEL).strip() or TOTAL_CHANNEL
    run = _promotion_run(actor=actor, product=product, region=region, channel=channel,
                         selected_model=selected_model, run_id=run_id)  # fmt: skip
    results = list(Forecast.objects.filter(run=run, discarded_at__isnull=True).order_by("period")[: int(horizon)])
    if not results:
        raise NotFound(f"No forecast results for model {selected_model!r} on this series.")
    kind = demand_plan_kind_authorised_by(perms.PROMOTE)
    model = run.model_used
    line = _note_line(model, notes or "")
    reason = f"Promotion of forecast run {run.pk} ({model})"
    by_period = current_plans(product.pk, [r.period for r in results], lock=True)
    weights = actual_weights([product.pk])
    promoted, periods, skipped = 0, [], []
    for result in results:
        targets = plan_targets(
            product_id=product.pk,
            region=run.region,
            channel=run.channel,
            period=result.period,
            qty=result.predicted_qty,
            rows=by_period.get(result.period, []),
            weights=weights,
        )
        wrote = False
        for target in targets:
            reason_skipped = _skip_reason(target, by_period.get(result.period, []))
            if reason_skipped:
                skipped.append({"period": result.period.isoformat(), "plan_id": getattr(target.plan, "pk", None),
                                "reason": reason_skipped})  # fmt: skip
                continue
            existing_notes = (target.plan.notes or "") if target.plan else ""
            values = {"forecast_qty": target.qty, "confidence": result.confidence,
                      "notes": f"{existing_notes}\n{line}" if existing_notes else line}  # fmt: skip
            if set_consensus:
                values["consensus_qty"] = target.qty
            write_target(kind, actor=actor, product=product, target=target, update=values, create=values,
                         source=PlanSource.PROMOTION, change_reason=reason)  # fmt: skip
            promoted += 1
            wrote = True
        if wrote:
            periods.append(result.period.isoformat())
    out = {"product_id": product.pk, "selected_model": selected_model, "run_id": run.pk, "records_promoted": promoted,
           "periods": periods, "skipped": skipped}  # fmt: skip
    audit.record(
        actor=actor,
        event_type=PROMOTION_COMPLETED,
        target=run,
        message=reason,
        metadata={**out, "horizon": int(horizon), "set_consensus": bool(set_consensus), "notes": notes or ""},
    )
    bus.publish_on_commit(PROMOTION_COMPLETED, run_id=run.pk, product_id=product.pk)
    return out


def _skip_reason(target: Target, rows: list[DemandPlan]) -> str | None:
    if target.plan is not None:
        if target.plan.status in PROMOTION_SKIPPED_STATES:
            return f"Demand plan {target.plan.pk} ({target.region}/{target.channel}) is {target.plan.status}."
        return None
    is_total = target.region == TOTAL_REGION and target.channel == TOTAL_CHANNEL
    if not is_total and any(r.region == TOTAL_REGION and r.channel == TOTAL_CHANNEL for r in rows):
        return "The period is planned as one total row (Global/All); a detail row cannot be added (PLN-22)."
    return None

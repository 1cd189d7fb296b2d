"""The executive scorecard of an S&OP cycle (GOV-53, FRM-35, API-SOP-12, UI-11 Service/Cost/Cash board).

A read path: it changes nothing and runs a fixed number of queries whatever the data volume (one per
block below), so the cycle page can show it on every visit.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q

from genxsop.services import require_perm
from governance import selectors
from governance.choices import ACTION_ITEM_OPEN_STATUSES, Lane, PublicationStatus
from governance.models import ActionItem, Decision, Publication, ReadinessEvaluation, SopCycle
from governance.permissions import VIEW_EXECUTIVE_SCORECARD

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
NO_SCENARIO_NOTICE = "No scenario for this period"
# FRM-35 (5): the KPI strip, in display order.
SCORECARD_KPIS = (
    "forecast_accuracy", "forecast_bias", "otif", "fill_rate", "inventory_turns", "days_of_supply", "gross_margin",
)  # fmt: skip
KPI_LABELS = {
    "forecast_accuracy": "Forecast accuracy", "forecast_bias": "Forecast bias", "otif": "OTIF",
    "fill_rate": "Fill rate", "inventory_turns": "Inventory turns", "days_of_supply": "Days of supply",
    "gross_margin": "Gross margin",
}  # fmt: skip
# FRM-35 (3): backlog risk thresholds, "more than" each bound.
BACKLOG_HIGH_PENDING, BACKLOG_HIGH_HIGH_RISK = 50, 20
BACKLOG_MEDIUM_PENDING, BACKLOG_MEDIUM_HIGH_RISK = 20, 5
RECOMMENDED, NOT_RECOMMENDED, REVIEW_REQUIRED = "recommended", "not_recommended", "review_required"


def _money(value) -> Decimal:
    # Stored results are JSON numbers already rounded to 2 dp; str() keeps their decimal digits exact.
    return Decimal(str(value if value is not None else 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def backlog_risk(*, pending: int, high_risk: int) -> str:
    """FRM-35 (3): `high` when pending > 50 or high-risk > 20, `medium` when pending > 20 or high-risk > 5."""
    if pending > BACKLOG_HIGH_PENDING or high_risk > BACKLOG_HIGH_HIGH_RISK:
        return "high"
    if pending > BACKLOG_MEDIUM_PENDING or high_risk > BACKLOG_MEDIUM_HIGH_RISK:
        return "medium"
    return "low"


def decision_signal(*, service_delta: Decimal, composite: Decimal, backlog: str) -> str:
    """FRM-35 (4)."""
    if service_delta >= 1 and composite >= 0 and backlog != "high":
        return RECOMMENDED
    if service_delta < 0 and backlog == "high":
        return NOT_RECOMMENDED
    return REVIEW_REQUIRED


def scorecard_scenario(period: datetime.date):
    """FRM-35 (1): the approved operating plan of `period`, else the most recently run completed or
    approved scenario of `period`, else None. Scenarios of other periods are never used."""
    from planning.choices import ScenarioStatus
    from planning.models import Scenario

    candidates = Scenario.objects.filter(
        period=period, status__in=[ScenarioStatus.COMPLETED, ScenarioStatus.APPROVED]
    ).select_related("run_by")
    # One query: the operating plan (approved by constraint) sorts first, then the latest run.
    return candidates.order_by("-is_operating_plan", "-run_at", "-id").first()


def scenario_figures(scenario) -> dict:
    """FRM-35 (2) from a scenario's stored results; every figure 0 without a scenario."""
    results = (scenario.results or {}) if scenario is not None else {}
    baseline = _money((results.get("baseline") or {}).get("service_level"))
    simulated = _money((results.get("scenario") or {}).get("service_level"))
    tradeoff = results.get("tradeoff") or {}
    return {
        # The delta of the two levels shown, so the three figures always add up on screen.
        "service": {"baseline": baseline, "scenario": simulated, "delta": simulated - baseline},
        "cost": {
            "inventory_carrying_cost": _money(tradeoff.get("inventory_carrying_cost")),
            "stockout_penalty_cost": _money(tradeoff.get("stockout_penalty_cost")),
            "composite_score": _money(tradeoff.get("composite_score")),
        },
        "cash": {
            "working_capital_delta": _money(tradeoff.get("working_capital_delta")),
            "inventory_value_estimate": _money((results.get("scenario") or {}).get("inventory_value")),
        },
    }


def scenario_summary(scenario) -> dict | None:
    if scenario is None:
        return None
    return {
        "id": scenario.pk,
        "name": scenario.name,
        "scenario_type": scenario.scenario_type,
        "status": scenario.status,
        "is_operating_plan": scenario.is_operating_plan,
        "period": scenario.period,
        "run_at": scenario.run_at,
        "run_by_name": (scenario.run_by.full_name or scenario.run_by.email) if scenario.run_by_id else "",
    }


def _risk(user) -> dict:
    from planning.choices import EXCEPTION_ACTIVE_STATUSES, ExceptionSeverity, RecommendationStatus
    from planning.models import InventoryPolicyException, InventoryPolicyRecommendation

    counts = (
        InventoryPolicyException.objects.scope_for(user, "view")
        .filter(status__in=EXCEPTION_ACTIVE_STATUSES)
        .aggregate(total=Count("pk"), high=Count("pk", filter=Q(severity=ExceptionSeverity.HIGH)))
    )
    pending = (
        InventoryPolicyRecommendation.objects.scope_for(user, "view")
        .filter(status=RecommendationStatus.PENDING)
        .count()
    )
    return {
        "open_exceptions": counts["total"],
        "high_risk": counts["high"],
        "pending_recommendations": pending,
        "backlog_risk": backlog_risk(pending=pending, high_risk=counts["high"]),
    }


def latest_kpis(codes=SCORECARD_KPIS) -> dict:
    """The newest row of each KPI code (by period), or None for a KPI with no value yet."""
    from planning.models import KpiMetric

    out: dict = dict.fromkeys(codes)
    rows = KpiMetric.objects.filter(metric_name__in=codes).order_by("metric_name", "-period", "-id")
    for row in rows.only("metric_name", "period", "value", "target", "status", "trend", "unit"):
        if out.get(row.metric_name) is None:
            out[row.metric_name] = kpi_summary(row)
    return out


def kpi_summary(row) -> dict:
    return {
        "code": row.metric_name,
        "period": row.period,
        "value": row.value,
        "target": row.target,
        "status": row.status,
        "trend": row.trend,
        "unit": row.unit,
    }


def readiness_of_period(cycle: SopCycle):
    """Evaluations "for the cycle period": monthly-lane ones whose horizon starts at the cycle period
    (the monthly lane publishes from the cycle period, GOV-60) or that were made for this cycle, and
    weekly-lane ones whose horizon covers the cycle period. Newest first."""
    monthly = Q(lane=Lane.MONTHLY) & (Q(period_from=cycle.period) | Q(sop_cycle=cycle))
    weekly = Q(lane=Lane.WEEKLY, period_from__lte=cycle.period, period_to__gte=cycle.period)
    return (
        ReadinessEvaluation.objects.filter(monthly | weekly)
        .select_related("evaluated_by")
        .order_by("-created_at", "-id")
    )


def readiness_summary(evaluation) -> dict | None:
    if evaluation is None:
        return None
    user = evaluation.evaluated_by
    return {
        "evaluation_id": str(evaluation.evaluation_id),
        "lane": evaluation.lane,
        "period_from": evaluation.period_from,
        "period_to": evaluation.period_to,
        "outcome": evaluation.outcome,
        "score": evaluation.score,
        "required_score": evaluation.required_score,
        "failed_gates": [g.get("gate") for g in evaluation.must_pass or [] if not g.get("passed")],
        "dry_run": evaluation.dry_run,
        "evaluated_by_name": (user.full_name or user.email) if user else "",
        "created_at": evaluation.created_at,
    }


def _latest_readiness(cycle: SopCycle) -> dict:
    evaluations = readiness_of_period(cycle)
    return {lane: readiness_summary(evaluations.filter(lane=lane).first()) for lane in (Lane.WEEKLY, Lane.MONTHLY)}


def publication_summary(publication) -> dict | None:
    if publication is None:
        return None
    by = publication.published_by
    return {
        "id": publication.pk,
        "version_stamp": publication.version_stamp,
        "lane": publication.lane,
        "period_from": publication.period_from,
        "period_to": publication.period_to,
        "outcome": publication.outcome,
        "sop_cycle_id": publication.sop_cycle_id,
        "published_at": publication.published_at,
        "published_by_name": (by.full_name or by.email) if by else "",
    }


def _current_monthly_publication():
    return (
        Publication.objects.select_related("published_by")
        .filter(lane=Lane.MONTHLY, status=PublicationStatus.PUBLISHED)
        .order_by("-published_at", "-id")
        .first()
    )


def executive_scorecard(*, user, cycle: SopCycle | int) -> dict:
    """FRM-35 for one cycle. Needs governance.view_executive_scorecard (EXEC_C); an unknown cycle is 404.

    `{cycle_id, cycle_name, period, scenario, service, cost, cash, risk, decision_signal, notice, kpis,
    readiness, publication, decisions_count, open_action_items}`; money, service levels and scores are
    Decimals with 2 places, all 0 when the period has no scenario (notice "No scenario for this period").
    """
    require_perm(user, VIEW_EXECUTIVE_SCORECARD)
    if not isinstance(cycle, SopCycle):
        cycle = selectors.sop_cycle_get(user=user, pk=cycle)
    scenario = scorecard_scenario(cycle.period)
    figures = scenario_figures(scenario)
    risk = _risk(user)
    signal = decision_signal(
        service_delta=figures["service"]["delta"], composite=figures["cost"]["composite_score"],
        backlog=risk["backlog_risk"],
    )  # fmt: skip
    return {
        "cycle_id": cycle.pk,
        "cycle_name": cycle.cycle_name,
        "period": cycle.period,
        "scenario": scenario_summary(scenario),
        **figures,
        "risk": risk,
        "decision_signal": signal,
        "notice": None if scenario is not None else NO_SCENARIO_NOTICE,
        "kpis": latest_kpis(),
        "readiness": _latest_readiness(cycle),
        "publication": publication_summary(_current_monthly_publication()),
        "decisions_count": Decision.objects.filter(cycle=cycle).count(),
        "open_action_items": ActionItem.objects.filter(cycle=cycle, status__in=ACTION_ITEM_OPEN_STATUSES).count(),
    }


def executive_board(*, user, cycle: SopCycle) -> dict | None:
    """The UI-11 board: the scorecard plus labelled KPI tiles for EXEC_C, None for every other role."""
    from planning.choices import KpiStatus

    if not user.has_perm(VIEW_EXECUTIVE_SCORECARD):
        return None
    card = executive_scorecard(user=user, cycle=cycle)
    statuses = dict(KpiStatus.choices)
    card["kpi_tiles"] = [
        {
            "code": code,
            "label": KPI_LABELS[code],
            "kpi": card["kpis"][code],
            "status_label": statuses.get(card["kpis"][code]["status"], "") if card["kpis"][code] else "",
        }
        for code in SCORECARD_KPIS
    ]
    return card

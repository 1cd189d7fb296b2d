"""The meeting pack of an S&OP cycle (GOV-54, INT-24, API-SOP-17): one XLSX workbook for the executive
meeting with the sheets Summary, KPIs, Gaps, Scenarios, Readiness, Decisions and Action Items.

Cells follow the file exports (INT-21/23, planning.fileio.writer): numbers typed as numbers, the header
row of every sheet frozen, text a spreadsheet would run as a formula quoted, and the workbook written to
a temporary file that spills to disk when large. The download is audited like every export
(planning.data.exported, with the cycle as the related entity).
"""

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.http import FileResponse
from django.utils import timezone

from genxsop.downloads import attachment
from genxsop.errors import ValidationFailed
from genxsop.services import require_perm
from governance import audit, scorecard, selectors
from governance.choices import ACTION_ITEM_OPEN_STATUSES, CycleStatus, StepStatus
from governance.models import ActionItem, Decision, SopCycle
from governance.permissions import VIEW_EXECUTIVE_SCORECARD

DATASET = "meeting_pack"
FORMATS = ("xlsx",)
SHEETS = ("Summary", "KPIs", "Gaps", "Scenarios", "Readiness", "Decisions", "Action Items")
TOP_GAPS = 20
STEP_HEADER = ["Step", "Name", "Status", "Owner", "Due date", "Completed at", "Gate", "Gate detail"]


def meeting_pack_format(value) -> str:
    """`format` defaults to xlsx, the only format of the pack; anything else is 400 INVALID_PARAMETER."""
    value = (value or "xlsx").strip().lower()
    if value not in FORMATS:
        raise ValidationFailed("format must be xlsx.", fields={"format": ["The meeting pack is available as xlsx."]},
                               code="INVALID_PARAMETER")  # fmt: skip
    return value


# Sheets ---------------------------------------------------------------------------------------------


def _name(user) -> str:
    return (user.full_name or user.email) if user is not None else ""


def _gate_cells(step, live: dict | None) -> tuple[str, str]:
    if live is not None:
        failed = "; ".join(c["detail"] for c in live["checks"] if not c["passed"])
        return ("passes" if live["passed"] else "fails"), failed
    if step.status == StepStatus.SKIPPED:
        return "skipped", step.skip_reason
    if step.override_justification:
        return "overridden", step.override_justification
    if step.gate_result:
        failed = "; ".join(c.get("detail", "") for c in step.gate_result.get("checks", []) if not c.get("passed"))
        return ("passed" if step.gate_result.get("passed") else "failed"), failed
    return "not evaluated", ""


def _summary_rows(cycle: SopCycle, card: dict) -> list[list]:
    from governance.services.cycles import cycle_gate_evaluate

    live = None
    if cycle.overall_status == CycleStatus.ACTIVE:
        live = cycle_gate_evaluate(cycle=cycle)
    scenario = card["scenario"]
    publication = card["publication"]
    rows = [
        ["Cycle", cycle.cycle_name],
        ["Period", cycle.period.strftime("%Y-%m")],
        ["Status", cycle.overall_status],
        ["Current step", cycle.current_step],
        ["Generated at", timezone.now()],
        ["Scenario", scenario["name"] if scenario else card["notice"]],
        ["Service level baseline %", card["service"]["baseline"]],
        ["Service level scenario %", card["service"]["scenario"]],
        ["Service level delta (pp)", card["service"]["delta"]],
        ["Inventory carrying cost", card["cost"]["inventory_carrying_cost"]],
        ["Stockout penalty cost", card["cost"]["stockout_penalty_cost"]],
        ["Composite score", card["cost"]["composite_score"]],
        ["Working capital delta", card["cash"]["working_capital_delta"]],
        ["Inventory value estimate", card["cash"]["inventory_value_estimate"]],
        ["Open policy exceptions", card["risk"]["open_exceptions"]],
        ["High-severity exceptions", card["risk"]["high_risk"]],
        ["Pending recommendations", card["risk"]["pending_recommendations"]],
        ["Backlog risk", card["risk"]["backlog_risk"]],
        ["Decision signal", card["decision_signal"]],
        ["Current monthly publication", publication["version_stamp"] if publication else ""],
        ["Decisions", card["decisions_count"]],
        ["Open action items", card["open_action_items"]],
        [],
        STEP_HEADER,
    ]
    for step in cycle.steps.select_related("owner").order_by("step_number"):
        current = live if live is not None and step.step_number == cycle.current_step else None
        gate, detail = _gate_cells(step, current)
        rows.append([step.step_number, step.name, step.status, _name(step.owner), step.due_date, step.completed_at,
                     gate, detail])  # fmt: skip
    return rows


KPI_HEADER = ["code", "name", "category", "period", "value", "target", "variance", "variance_pct", "trend", "status",
              "unit", "source"]  # fmt: skip


def _kpi_rows() -> list[list]:
    """The KPI overview: the newest value of every KPI, by code."""
    from planning.models import KpiDefinition, KpiMetric

    newest = KpiMetric.objects.filter(metric_name=OuterRef("metric_name")).order_by("-period", "-id").values("pk")[:1]
    names = dict(KpiDefinition.objects.values_list("code", "name"))
    rows = KpiMetric.objects.filter(pk=Subquery(newest)).order_by("metric_name")
    return [
        [m.metric_name, names.get(m.metric_name, ""), m.metric_category, m.period.strftime("%Y-%m"), m.value,
         m.target, m.variance, m.variance_pct, m.trend or "", m.status, m.unit, m.source]
        for m in rows
    ]  # fmt: skip


GAP_HEADER = ["period", "sku", "product_name", "demand_qty", "planned_production_qty", "inventory_available_qty",
              "effective_supply_qty", "coverage_gap_qty", "coverage_gap_pct", "status"]  # fmt: skip


def top_gaps(*, user, cycle: SopCycle, limit: int = TOP_GAPS) -> list[dict]:
    """The `limit` most adverse FRM-02 items of the review horizon: under-covered product-periods only
    (coverage gap < 0), most negative coverage % first, then period and SKU."""
    from governance.services.cycles import review_horizon
    from planning.selectors.supply import gap_analysis

    horizon = review_horizon(cycle)
    items = gap_analysis(user=user, params={"period": horizon[0].strftime("%Y-%m"),
                                            "period_to": horizon[-1].strftime("%Y-%m")})  # fmt: skip
    adverse = [item for item in items if item["coverage_gap_qty"] < 0]
    adverse.sort(key=lambda item: (item["coverage_gap_pct"], item["period"], item["sku"]))
    return adverse[:limit]


def _gap_rows(user, cycle: SopCycle) -> list[list]:
    return [
        [i["period"].strftime("%Y-%m"), i["sku"], i["product_name"], i["demand_qty"], i["planned_production_qty"],
         i["inventory_available_qty"], i["effective_supply_qty"], i["coverage_gap_qty"], i["coverage_gap_pct"],
         i["status"]]
        for i in top_gaps(user=user, cycle=cycle)
    ]  # fmt: skip


SCENARIO_HEADER = [
    "id",
    "name",
    "scenario_type",
    "status",
    "operating_plan",
    "run_at",
    "baseline_service_level",
    "scenario_service_level",
    "service_delta",
    "revenue_impact",
    "margin_impact",
    "inventory_impact",
    "inventory_carrying_cost",
    "stockout_penalty_cost",
    "working_capital_delta",
    "composite_score",
]


def meeting_pack_scenarios(cycle: SopCycle):
    """The operating plan of the cycle period and its submitted or approved scenarios: operating plan
    first, then approved before submitted, newest run first."""
    from planning.choices import ScenarioStatus
    from planning.models import Scenario

    return Scenario.objects.filter(
        Q(is_operating_plan=True) | Q(status__in=[ScenarioStatus.SUBMITTED, ScenarioStatus.APPROVED]),
        period=cycle.period,
    ).order_by("-is_operating_plan", "status", "-run_at", "-id")


def _scenario_rows(cycle: SopCycle) -> list[list]:
    rows = []
    for s in meeting_pack_scenarios(cycle):
        figures = scorecard.scenario_figures(s)
        rows.append([
            s.pk, s.name, s.scenario_type, s.status, s.is_operating_plan, s.run_at,
            figures["service"]["baseline"], figures["service"]["scenario"], figures["service"]["delta"],
            s.revenue_impact, s.margin_impact, s.inventory_impact,
            figures["cost"]["inventory_carrying_cost"], figures["cost"]["stockout_penalty_cost"],
            figures["cash"]["working_capital_delta"], figures["cost"]["composite_score"],
        ])  # fmt: skip
    return rows


READINESS_HEADER = ["evaluated_at", "lane", "period_from", "period_to", "outcome", "score", "required_score",
                    "failed_gates", "dry_run", "latest_of_lane", "evaluated_by", "evaluation_id"]  # fmt: skip


def _readiness_rows(cycle: SopCycle) -> list[list]:
    rows, seen = [], set()
    for e in scorecard.readiness_of_period(cycle):
        summary = scorecard.readiness_summary(e)
        rows.append([
            e.created_at, e.lane, e.period_from.strftime("%Y-%m"), e.period_to.strftime("%Y-%m"), e.outcome, e.score,
            e.required_score, ", ".join(summary["failed_gates"]), e.dry_run, e.lane not in seen,
            summary["evaluated_by_name"], summary["evaluation_id"],
        ])  # fmt: skip
        seen.add(e.lane)
    return rows


DECISION_HEADER = ["decided_at", "title", "category", "decided_by", "status", "step_number", "description"]


def _decision_rows(cycle: SopCycle) -> list[list]:
    decisions = Decision.objects.filter(cycle=cycle).select_related("decided_by").order_by("decided_at", "id")
    return [
        [d.decided_at, d.title, d.category, _name(d.decided_by), d.status, d.step_number, d.description]
        for d in decisions
    ]


ACTION_ITEM_HEADER = ["title", "owner", "due_date", "priority", "status", "overdue", "decision", "description"]


def _action_item_rows(cycle: SopCycle) -> list[list]:
    today = timezone.localdate()
    items = (
        ActionItem.objects.filter(cycle=cycle, status__in=ACTION_ITEM_OPEN_STATUSES)
        .select_related("owner", "decision")
        .order_by("due_date", "id")
    )
    return [
        [i.title, _name(i.owner), i.due_date, i.priority, i.status, i.due_date < today,
         i.decision.title if i.decision_id else "", i.description]
        for i in items
    ]  # fmt: skip


def meeting_pack_sheets(*, user, cycle: SopCycle) -> list[tuple[str, list[str], list[list]]]:
    """(sheet title, header, rows) for each sheet of INT-24, in order. Needs the scorecard permission."""
    card = scorecard.executive_scorecard(user=user, cycle=cycle)
    summary = _summary_rows(cycle, card)
    return [
        ("Summary", ["Field", "Value"], summary),
        ("KPIs", KPI_HEADER, _kpi_rows()),
        ("Gaps", GAP_HEADER, _gap_rows(user, cycle)),
        ("Scenarios", SCENARIO_HEADER, _scenario_rows(cycle)),
        ("Readiness", READINESS_HEADER, _readiness_rows(cycle)),
        ("Decisions", DECISION_HEADER, _decision_rows(cycle)),
        ("Action Items", ACTION_ITEM_HEADER, _action_item_rows(cycle)),
    ]


# The workbook and the download --------------------------------------------------------------------------


def workbook_file(sheets: list[tuple[str, list[str], list[list]]]):
    from planning.fileio.writer import xlsx_workbook_file

    return xlsx_workbook_file(sheets)


def meeting_pack_export(*, actor, cycle, fmt: str | None = None) -> FileResponse:
    """API-SOP-17 / UI-11: the meeting pack of `cycle` (a SopCycle or its id) as an XLSX download.

    Needs governance.view_executive_scorecard (EXEC_C); an unknown cycle is 404; a `fmt` other than
    xlsx is 400. Records planning.data.exported (dataset meeting_pack, the cycle as related entity,
    the row count of each sheet) before the file is sent.
    """
    from planning import events
    from planning.fileio.exports import ExportTarget
    from planning.fileio.writer import CONTENT_TYPES, file_name

    require_perm(actor, VIEW_EXECUTIVE_SCORECARD)
    fmt = meeting_pack_format(fmt)
    if not isinstance(cycle, SopCycle):
        cycle = selectors.sop_cycle_get(user=actor, pk=cycle)
    sheets = meeting_pack_sheets(user=actor, cycle=cycle)
    counts = {title: len(rows) for title, _, rows in sheets}
    name = file_name(f"{DATASET}_{cycle.period:%Y-%m}", fmt)
    out = workbook_file(sheets)
    with transaction.atomic():
        audit.record(
            actor=actor, event_type=events.DATA_EXPORTED, target=ExportTarget(DATASET), target_type="export",
            related=cycle,
            message=f"Meeting pack of {cycle.cycle_name} exported as {fmt.upper()} ({sum(counts.values())} rows).",
            metadata={"dataset": DATASET, "format": fmt, "filters": {"cycle_id": cycle.pk},
                      "row_count": sum(counts.values()), "sheets": counts, "file_name": name},
        )  # fmt: skip
    return attachment(FileResponse(out, content_type=CONTENT_TYPES[fmt]), name)

"""The meeting pack of an S&OP cycle (GOV-54, INT-24, API-SOP-17): an XLSX workbook, audited as an export."""

import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from governance import meeting_pack
from governance.choices import Role
from governance.models import ActionItem, AuditEvent, Decision
from governance.services import cycles
from planning import services as planning_services
from planning.models import Scenario
from tests.factories import LocationFactory, ProductFactory
from tests.governance.test_executive_scorecard import (
    EXEC_C,
    OTHER_PERIOD,
    OTHERS,
    PERIOD,
    make_evaluation,
    make_kpi,
    make_scenario,
)

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def url(cycle_id, fmt: str | None = "xlsx") -> str:
    return f"/api/v1/sop-cycles/{cycle_id}/meeting-pack" + (f"?format={fmt}" if fmt is not None else "")


@pytest.fixture
def cycle(users):
    return cycles.cycle_create(actor=users[Role.SOP_COORDINATOR], data={"period": PERIOD})


@pytest.fixture
def gaps(users):
    """Demand and supply of the review horizon (March, April, May 2031) and beyond it; no stock, so
    coverage = planned - demand."""
    admin = users[Role.ADMIN]
    plant = LocationFactory()
    a, b, c = ProductFactory(sku="GAP-A"), ProductFactory(sku="GAP-B"), ProductFactory(sku="GAP-C")

    def plan(product, period, demand, supply=None):
        planning_services.demand_plan_create(actor=admin, product=product, data={"period": period,
                                                                                 "forecast_qty": demand})  # fmt: skip
        if supply is not None:
            planning_services.supply_plan_create(actor=admin, product=product, location=plant,
                                                 data={"period": period, "planned_prod_qty": supply})  # fmt: skip

    plan(a, PERIOD, 100, 50)  # -50 / 100 = -50 %: critical
    plan(b, PERIOD, 200, 180)  # -20 / 200 = -10 %: shortage
    plan(c, PERIOD, 100, 150)  # +50 %: excess, not adverse
    plan(a, OTHER_PERIOD, 100)  # no supply: -100 %, critical
    plan(b, datetime.date(2031, 5, 1), 100, 100)  # balanced, not adverse
    plan(a, datetime.date(2031, 6, 1), 100)  # -100 %, but after the 3-month horizon


def download(client, cycle_id, fmt="xlsx"):
    response = client.get(url(cycle_id, fmt))
    assert response.status_code == 200, response.content[:500]
    return response, load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def rows_of(sheet) -> list[tuple]:
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_the_pack_has_the_seven_sheets_each_with_a_frozen_header(users, cycle, api_client_for):
    response, book = download(api_client_for(users[Role.EXECUTIVE]), cycle.pk)

    assert response["Content-Type"] == XLSX
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="meeting_pack_2031-03_')
    assert disposition.endswith('.xlsx"')
    assert book.sheetnames == ["Summary", "KPIs", "Gaps", "Scenarios", "Readiness", "Decisions", "Action Items"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
    assert rows_of(book["Gaps"])[0] == tuple(meeting_pack.GAP_HEADER)
    assert rows_of(book["Scenarios"])[0] == tuple(meeting_pack.SCENARIO_HEADER)


def test_summary_lists_the_cycle_the_scorecard_and_the_steps_with_their_gate(users, cycle, api_client_for):
    make_scenario("Operating plan", status="approved", operating=True)

    _, book = download(api_client_for(users[Role.SOP_COORDINATOR]), cycle.pk)

    rows = rows_of(book["Summary"])
    fields = {row[0]: row[1] for row in rows[1:] if row and row[0]}
    assert rows[0][:2] == ("Field", "Value")
    assert fields["Cycle"] == "March 2031 S&OP Cycle"
    assert fields["Period"] == "2031-03"
    assert fields["Current step"] == 1
    assert fields["Scenario"] == "Operating plan"
    assert fields["Service level delta (pp)"] == 2.5  # 95.00 - 92.50, a number cell
    assert fields["Inventory carrying cost"] == 120
    assert fields["Decision signal"] == "recommended"
    header_at = rows.index(tuple(meeting_pack.STEP_HEADER) + (None,) * (len(rows[0]) - len(meeting_pack.STEP_HEADER)))
    steps = rows[header_at + 1 : header_at + 6]
    assert [s[:3] for s in steps] == [
        (1, "Data Gathering", "in_progress"), (2, "Demand Review", "pending"), (3, "Supply Review", "pending"),
        (4, "Pre-S&OP Meeting", "pending"), (5, "Executive S&OP", "pending"),
    ]  # fmt: skip
    live = cycles.cycle_gate_evaluate(cycle=cycle)
    assert steps[0][6] == ("passes" if live["passed"] else "fails")
    assert steps[1][6] == "not evaluated"


def test_summary_carries_the_notice_without_a_scenario(users, cycle, api_client_for):
    _, book = download(api_client_for(users[Role.EXECUTIVE]), cycle.pk)
    fields = {row[0]: row[1] for row in rows_of(book["Summary"])[1:] if row and row[0]}
    assert fields["Scenario"] == "No scenario for this period"
    assert fields["Decision signal"] == "review_required"


def test_gaps_are_the_under_covered_product_periods_of_the_horizon_most_adverse_first(users, cycle, gaps,
                                                                                      api_client_for):  # fmt: skip
    _, book = download(api_client_for(users[Role.EXECUTIVE]), cycle.pk)

    rows = rows_of(book["Gaps"])[1:]

    # (period, sku, demand, planned, coverage gap, coverage %, status), typed numbers
    assert [(r[0], r[1], r[3], r[4], r[7], r[8], r[9]) for r in rows] == [
        ("2031-04", "GAP-A", 100, 0, -100, -100, "critical"),  # -100 / 100
        ("2031-03", "GAP-A", 100, 50, -50, -50, "critical"),  # (50 - 100) / 100
        ("2031-03", "GAP-B", 200, 180, -20, -10, "shortage"),  # (180 - 200) / 200
    ]


def test_gaps_keep_the_top_twenty(users, cycle):
    admin = users[Role.ADMIN]
    for n in range(22):
        product = ProductFactory(sku=f"TOP-{n:02d}")
        # demand 100 + n, nothing planned: coverage -100 % each; ties broken by period then SKU.
        planning_services.demand_plan_create(actor=admin, product=product, data={"period": PERIOD,
                                                                                 "forecast_qty": 100 + n})  # fmt: skip

    top = meeting_pack.top_gaps(user=users[Role.EXECUTIVE], cycle=cycle)

    assert len(top) == 20
    assert [g["sku"] for g in top] == [f"TOP-{n:02d}" for n in range(20)]


def test_scenarios_are_the_operating_plan_and_the_submitted_or_approved_ones_of_the_period(users, cycle,
                                                                                          api_client_for):  # fmt: skip
    operating = make_scenario("Operating plan", status="approved", operating=True, run_minutes_ago=300)
    approved = make_scenario("Approved alternative", status="approved", run_minutes_ago=200, baseline=90.0,
                             simulated=88.0, composite=-1.25)  # fmt: skip
    submitted = make_scenario("Submitted", status="submitted", run_minutes_ago=100)
    make_scenario("Completed only", status="completed", run_minutes_ago=1)
    make_scenario("April plan", period=OTHER_PERIOD, status="approved", operating=True)
    Scenario.objects.filter(pk=approved.pk).update(revenue_impact="-2500.50")

    _, book = download(api_client_for(users[Role.EXECUTIVE]), cycle.pk)

    rows = rows_of(book["Scenarios"])[1:]
    assert [r[0] for r in rows] == [operating.pk, approved.pk, submitted.pk]
    assert rows[0][4] == "true"  # operating_plan
    alternative = dict(zip(meeting_pack.SCENARIO_HEADER, rows[1], strict=True))
    assert alternative["baseline_service_level"] == 90
    assert alternative["scenario_service_level"] == 88
    assert alternative["service_delta"] == -2  # 88.00 - 90.00
    assert alternative["composite_score"] == -1.25
    assert alternative["revenue_impact"] == -2500.5  # typed, not the text "-2500.50"
    assert isinstance(alternative["revenue_impact"], float)


def test_kpis_readiness_decisions_and_open_action_items(users, cycle, api_client_for):
    executive = users[Role.EXECUTIVE]
    make_kpi("forecast_accuracy", datetime.date(2031, 1, 1), "84.2", target="85", status="warning")
    make_kpi("forecast_accuracy", datetime.date(2031, 2, 1), "87.5", target="85", status="on_target")
    make_kpi("otif", datetime.date(2031, 2, 1), "93", category="service")
    make_evaluation("monthly", PERIOD, datetime.date(2031, 8, 1), outcome="go", minutes_ago=60)
    latest = make_evaluation("monthly", PERIOD, datetime.date(2031, 8, 1), outcome="no_go", minutes_ago=5,
                             must_pass=[{"gate": "plans_approved", "passed": False}])  # fmt: skip
    make_evaluation("monthly", OTHER_PERIOD, datetime.date(2031, 9, 1))  # another period
    now = timezone.now()
    Decision.objects.create(cycle=cycle, title="=HYPERLINK(\"http://evil\")", category="supply", decided_by=executive,
                            decided_at=now)  # fmt: skip
    Decision.objects.create(cycle=cycle, title="Keep the plan", category="demand", decided_by=executive,
                            decided_at=now - datetime.timedelta(hours=1))  # fmt: skip
    due = timezone.localdate() - datetime.timedelta(days=1)
    ActionItem.objects.create(cycle=cycle, title="@SUM(A1)", owner=executive, due_date=due)
    ActionItem.objects.create(cycle=cycle, title="Done already", owner=executive, due_date=due, status="done")

    _, book = download(api_client_for(executive), cycle.pk)

    kpis = rows_of(book["KPIs"])[1:]
    assert [(r[0], r[3], r[4], r[5], r[9]) for r in kpis] == [
        ("forecast_accuracy", "2031-02", 87.5, 85, "on_target"), ("otif", "2031-02", 93, None, "no_target"),
    ]  # fmt: skip
    readiness = [dict(zip(meeting_pack.READINESS_HEADER, r, strict=True)) for r in rows_of(book["Readiness"])[1:]]
    assert [(r["evaluation_id"], r["outcome"], r["latest_of_lane"]) for r in readiness] == [
        (str(latest.evaluation_id), "no_go", "true"), (readiness[1]["evaluation_id"], "go", "false"),
    ]  # fmt: skip
    assert readiness[0]["failed_gates"] == "plans_approved"
    assert readiness[0]["score"] == 4
    decisions = rows_of(book["Decisions"])[1:]
    # Oldest first; INT-23: a title a spreadsheet would run as a formula is quoted.
    assert [d[1] for d in decisions] == ["Keep the plan", '\'=HYPERLINK("http://evil")']
    cell = book["Decisions"]["B3"]
    assert cell.data_type == "s"
    items = rows_of(book["Action Items"])[1:]
    assert [(i[0], i[4], i[5]) for i in items] == [("'@SUM(A1)", "open", "true")]  # open only, overdue


def test_the_download_is_audited_as_an_export(users, cycle, gaps, api_client_for):
    executive = users[Role.EXECUTIVE]
    client = api_client_for(executive)
    before = AuditEvent.objects.count()

    download(client, cycle.pk)

    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert event.event_type == "planning.data.exported"
    assert event.actor_id == executive.pk
    assert (event.target_type, event.target_id) == ("export", "meeting_pack")
    assert (event.related_type, event.related_id) == ("sop_cycle", str(cycle.pk))
    assert event.metadata["dataset"] == "meeting_pack"
    assert event.metadata["format"] == "xlsx"
    assert event.metadata["filters"] == {"cycle_id": cycle.pk}
    assert event.metadata["sheets"]["Gaps"] == 3
    assert event.metadata["row_count"] == sum(event.metadata["sheets"].values())
    assert event.metadata["file_name"].startswith("meeting_pack_2031-03_")


@pytest.mark.parametrize("role", EXEC_C + OTHERS)
def test_status_per_role_and_no_audit_row_when_refused(users, cycle, api_client_for, role):
    client = api_client_for(users[role])
    before = AuditEvent.objects.filter(event_type="planning.data.exported").count()

    response = client.get(url(cycle.pk))

    assert response.status_code == (200 if role in EXEC_C else 403)
    exported = AuditEvent.objects.filter(event_type="planning.data.exported").count() - before
    assert exported == (1 if role in EXEC_C else 0)


def test_format_defaults_to_xlsx_and_others_are_400(users, cycle, api_client_for):
    client = api_client_for(users[Role.EXECUTIVE])

    assert client.get(url(cycle.pk, None)).status_code == 200
    response = client.get(url(cycle.pk, "csv"))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_PARAMETER"
    assert "format" in response.json()["detail"]["fields"]


def test_unknown_cycle_is_404_and_anonymous_is_401(users, cycle, api_client_for, anon_client):
    response = api_client_for(users[Role.EXECUTIVE]).get(url(cycle.pk + 1000))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert anon_client.get(url(cycle.pk)).status_code == 401


def test_the_console_link_downloads_the_pack_with_the_session(client, users, cycle):
    client.force_login(users[Role.SOP_COORDINATOR])
    response = client.get(f"/api/v1/sop-cycles/{cycle.pk}/meeting-pack?format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX

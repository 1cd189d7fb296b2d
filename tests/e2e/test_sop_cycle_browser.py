"""The demo data through a whole S&OP cycle in a real browser (issue 6 "done when").

The coordinator finds the cycle held at the demand review and the monthly publish refused with its
failed gates listed; once the planners finish their approvals (done through the services: clicking
through a hundred plan rows is not what this test is about) the coordinator advances the cycle to
step 5 in the console, the executive approves and designates the operating-plan scenario in a second
browser context, the coordinator publishes the monthly lane, the locked plans show the stamp and
offer no edit, the executive completes the cycle and rolls the publication back, and the audit chain
still verifies. Every governance action is a click on the console.
"""

import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from governance import events
from governance.audit_chain import verify
from governance.choices import CycleStatus, Lane, PublicationStatus, Source
from governance.demo_governance import finish_open_reviews
from governance.models import AuditEvent, Publication, PublicationItem, SopCycle, User
from planning.choices import PlanStatus, ScenarioStatus
from planning.models import DemandPlan, Scenario
from tests.e2e.console import csp_violations, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "Password123!"
COORDINATOR = "coordinator@genxsop.com"
EXECUTIVE = "executive@genxsop.com"
SCENARIO = "Supplier disruption \u221215 %"

# Submits a plain form the page does not offer, as a stale tab or a hand-made request would.
POST_FORM = """([action, fields]) => {
  const form = document.createElement("form");
  form.method = "post";
  form.action = action;
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
}"""


def _watch(page):
    page.console_messages = []
    page.on("console", lambda message: page.console_messages.append(f"{message.type}: {message.text}"))
    page.csp_reports = []
    page.on("request", lambda request: "/csp-report" in request.url and page.csp_reports.append(request.url))
    return page


def _confirm(page, label):
    """Accept the console's confirmation dialog (console.js) with its OK button `label`."""
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    with page.expect_navigation():
        dialog.get_by_role("button", name=label, exact=True).click()


def _check_readiness(page):
    with page.expect_navigation():
        page.get_by_role("button", name="Check readiness").click()


def _monthly_scorecard(page):
    return page.locator("section.scorecard").filter(has=page.get_by_role("heading", name=re.compile("^Monthly lane")))


def _failed_gates(scorecard) -> set[str]:
    rows = scorecard.locator("tr").filter(has=scorecard.page.locator(".badge--critical", has_text="Fail"))
    return {text.split()[0] for text in rows.locator("th").all_inner_texts()}


def _advance(page, to_step):
    with page.expect_navigation():
        page.get_by_role("button", name=f"Advance to step {to_step}").click()
    assert page.get_by_text("advanced to the next step").count() == 1, page.locator("main").inner_text()[:2000]


def test_the_coordinator_runs_the_demo_through_a_full_cycle_in_the_console(page, browser, live_server):
    call_command("load_demo", verbosity=0)
    anchor = timezone.localdate().replace(day=1)
    cycle = SopCycle.objects.get(period=anchor, overall_status=CycleStatus.ACTIVE)
    assert cycle.current_step == 2

    # The coordinator opens the active cycle: the demand-review gate fails on the open rows, Advance is disabled.
    sign_in(page, COORDINATOR, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="S&OP Cycle", exact=True).click()
    page.wait_for_url("**/sop-cycle/")
    page.locator(f"#cycle-{cycle.pk}-title").get_by_role("link", name=cycle.cycle_name).click()
    page.wait_for_url(f"**/sop-cycle/{cycle.pk}/")
    assert page.locator("#cycle-progress").get_attribute("value") is not None
    assert page.get_by_text("Step 2 of 5").count() == 1
    gate = page.locator("#gate-panel")
    assert gate.get_attribute("data-gate-passed") == "false"
    assert gate.get_by_role("heading", name=re.compile(r"Gate of step 2 .* Fails")).count() == 1
    approvals = gate.locator('#gate-checks tr[data-check="demand_plan_approval"]')
    assert approvals.get_attribute("data-passed") == "false"
    assert re.search(r"\d+ product-periods have demand plan rows not approved", approvals.inner_text())
    approvals.get_by_text(re.compile(r"Evidence \(\d+\)")).click()  # the open rows, named by SKU and period
    named = approvals.locator("details li").all_inner_texts()
    assert named
    assert all(re.fullmatch(r"[A-Z]+-\d{3} \d{4}-\d{2} \(.+\)", key) for key in named), named
    assert page.get_by_role("button", name="Advance to step 3").is_disabled()
    assert page.locator("#advance-reasons").inner_text().startswith("Advance is disabled:")
    assert named[0] in page.locator("#advance-reasons").inner_text()

    # Publish → Check readiness: the monthly lane is No-Go on the gates DEMO-11 names and cannot be published.
    page.get_by_role("link", name="Publish", exact=True).first.click()
    page.wait_for_url("**/publish/")
    _check_readiness(page)
    assert page.locator("#overall").inner_text() == "No-Go"
    monthly = _monthly_scorecard(page)
    assert monthly.locator(".badge--critical", has_text="No-Go").count() == 1
    assert {"plans_approved", "operating_plan_scenario", "sop_step_gates"} <= _failed_gates(monthly)
    action = page.locator("#publish-monthly")
    assert action.get_by_role("button", name=re.compile("^Publish")).count() == 0
    assert action.inner_text().strip() == "No-Go. Only an approver may publish with an override."
    # A publish request all the same (a stale tab, a crafted post) is refused with the failed gates shown.
    token = page.locator("form[action$='/publish/check/'] input[name='csrfmiddlewaretoken']").input_value()
    with page.expect_navigation():
        page.evaluate(POST_FORM, ["/publish/publish/", {"csrfmiddlewaretoken": token, "lane": "monthly"}])
    refusal = page.get_by_text("Not published:").inner_text()
    assert all(g in refusal for g in ("plans_approved", "operating_plan_scenario", "sop_step_gates")), refusal
    assert {"plans_approved", "operating_plan_scenario", "sop_step_gates"} <= _failed_gates(_monthly_scorecard(page))
    assert not Publication.objects.filter(lane=Lane.MONTHLY).exists()

    # The planners finish their approvals; the coordinator takes the cycle 2 → 3 in the console. Starting the
    # supply review reopens the supply rows the weekly publication locked (GOV-51), so they are approved again.
    assert finish_open_reviews(from_period=anchor) > 0
    page.goto(f"/sop-cycle/{cycle.pk}/")
    assert page.locator("#gate-panel").get_attribute("data-gate-passed") == "true"
    _advance(page, 3)
    finish_open_reviews(from_period=anchor)
    page.reload()
    _advance(page, 4)
    _advance(page, 5)
    assert page.get_by_text("Step 5 of 5").count() == 1
    cycle.refresh_from_db()
    assert cycle.current_step == 5
    steps = page.locator("#step-table tbody tr")
    assert [steps.nth(i).locator("td").first.inner_text() for i in range(4)] == ["Completed"] * 4

    # The executive, in a second browser context, approves the stress test and makes it the operating plan.
    scenario = Scenario.objects.get(period=anchor, name=SCENARIO, status=ScenarioStatus.SUBMITTED)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 900})
    executive = _watch(context.new_page())
    try:
        sign_in(executive, EXECUTIVE, PASSWORD)
        executive.get_by_role("navigation", name="Main").get_by_role("link", name="Scenarios", exact=True).click()
        executive.wait_for_url("**/scenarios/")
        executive.locator(f'[data-scenario="{scenario.pk}"]').get_by_role("link", name=SCENARIO).click()
        executive.wait_for_url(f"**/scenarios/{scenario.pk}/")
        executive.get_by_role("button", name=f"Approve {SCENARIO}").click()
        executive.locator("#confirm-dialog-reason").fill("Capacity plan agreed in the pre-S&OP meeting.")
        _confirm(executive, "Approve")
        assert "Approved" in executive.locator("#scenario-status").inner_text()
        executive.get_by_role("button", name=f"Designate {SCENARIO} as operating plan").click()
        _confirm(executive, "Designate")
        scenario.refresh_from_db()
        assert (scenario.status, scenario.is_operating_plan) == (ScenarioStatus.APPROVED, True)

        # The coordinator checks again: monthly Go at 3/4, weekly still No-Go; publishes the monthly lane.
        page.get_by_role("link", name="Publish", exact=True).first.click()
        page.wait_for_url("**/publish/")
        _check_readiness(page)
        assert page.locator("#overall").inner_text() == "Go monthly only"
        monthly = _monthly_scorecard(page)
        assert monthly.locator(".badge--approved", has_text="Go").count() == 1
        assert monthly.get_by_text("3/4").count() == 1
        page.locator("#publish-monthly").get_by_role("button", name="Publish monthly").click()
        _confirm(page, "Publish")
        stamp = f"M-{anchor:%Y%m}-v1"
        assert page.get_by_role("heading", name=re.compile(stamp)).count() == 1
        publication = Publication.objects.get(version_stamp=stamp)
        assert (publication.outcome, publication.status) == ("go", PublicationStatus.PUBLISHED)
        page.get_by_role("link", name="Publish").first.click()
        history = page.locator("table tr").filter(has_text=stamp)
        assert history.locator("td").nth(3).inner_text() == "Go"
        in_scope = DemandPlan.objects.filter(is_current=True, period__gte=publication.period_from,
                                             period__lte=publication.period_to)  # fmt: skip
        assert in_scope.exists()
        assert not in_scope.exclude(status=PlanStatus.LOCKED).exists()
        assert in_scope.filter(locked_by_publication=publication).exists()
        assert PublicationItem.objects.filter(publication=publication).count() == publication.item_count > 0

        # A plan it locked shows the stamp and offers no edit: the published version is frozen.
        plan = in_scope.filter(locked_by_publication=publication).order_by("pk").first()
        page.goto(f"/demand/{plan.pk}/")
        assert page.locator("#plan-status").inner_text().strip() == "Locked"
        assert page.get_by_role("link", name=re.compile("^Edit ")).count() == 0
        assert page.get_by_role("link", name=re.compile("^Adjust ")).count() == 0
        assert page.get_by_role("button", name=re.compile("^(Submit|Reopen|Delete) ")).count() == 0
        page.get_by_role("link", name=stamp).click()  # the stamp leads to the publication that froze it
        page.wait_for_url(f"**/publish/{publication.pk}/")
        assert page.get_by_role("heading", name=re.compile(stamp)).count() == 1
        page.goto(f"/demand/{plan.pk}/edit/")  # and the edit URL itself refuses
        page.wait_for_url(f"**/demand/{plan.pk}/")
        assert page.locator("#id_forecast_qty").count() == 0

        # The executive completes the cycle at step 5.
        executive.goto(f"/sop-cycle/{cycle.pk}/")
        with executive.expect_navigation():
            executive.get_by_role("button", name="Complete cycle").click()
        assert executive.locator("#cycle-status").inner_text() == "Completed"
        cycle.refresh_from_db()
        assert cycle.overall_status == CycleStatus.COMPLETED

        # and rolls the monthly publication back from the Publish page, with a reason.
        executive.get_by_role("link", name="Publish", exact=True).first.click()
        executive.wait_for_url("**/publish/")
        executive.get_by_role("link", name=f"Roll back {stamp}").click()
        executive.wait_for_url(f"**/publish/{publication.pk}/#rollback")
        executive.get_by_label(re.compile(r"^Reason \(at least")).fill("Wrong price list used in the supply review.")
        executive.get_by_label("I confirm the rollback").check()
        executive.locator("#rollback").get_by_role("button", name="Roll back").click()
        _confirm(executive, "Roll back")
        executive.get_by_role("link", name="Publish").first.click()
        executive.wait_for_url("**/publish/")
        row = executive.locator("table tr").filter(has_text=stamp)
        assert row.locator("td").nth(4).inner_text() == "Rolled back"
        assert csp_violations(executive) == []
        assert executive.csp_reports == []
    finally:
        context.close()

    publication.refresh_from_db()
    assert publication.status == PublicationStatus.ROLLED_BACK
    released = DemandPlan.objects.filter(pk__in=in_scope.values("pk"))
    assert not released.filter(locked_by_publication=publication).exists()
    assert released.filter(status=PlanStatus.APPROVED, locked_by_publication__isnull=True).exists()
    assert PublicationItem.objects.filter(publication=publication).count() == publication.item_count

    # Each console action left its audit row, by the person who clicked, and the chain over them verifies.
    console = AuditEvent.objects.filter(source=Source.UI)
    coordinator, executive_user = User.objects.get(email=COORDINATOR), User.objects.get(email=EXECUTIVE)
    advanced = console.filter(event_type=events.SOP_CYCLE_ADVANCED, target_id=str(cycle.pk), actor=coordinator)
    assert advanced.count() == 3
    for event_type, actor in ((events.PUBLICATION_PUBLISHED, coordinator),
                              (events.PUBLICATION_ROLLED_BACK, executive_user)):  # fmt: skip
        assert console.filter(event_type=event_type, target_id=str(publication.pk), actor=actor).count() == 1
    assert console.filter(event_type=events.SOP_CYCLE_COMPLETED, actor=executive_user).count() == 1
    report = verify()
    assert report.ok, report
    assert csp_violations(page) == []
    assert page.csp_reports == []

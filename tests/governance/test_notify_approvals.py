"""Approval requests and decisions reach the right people's bell (GOV-42, GOV-13, WF-10/11/20, WF-13)."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction

from forecasting import services as forecasting
from governance import notify_approvals
from governance.choices import Role
from governance.models import Notification
from governance.services.scopes import user_scopes_set
from planning import services
from tests.forecasting.builders import make_run

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)
P1 = date(2027, 1, 1)


@pytest.fixture
def w(users, make_user):
    admin = users[Role.ADMIN]
    audio = services.category_create(actor=admin, name="Audio")
    garden = services.category_create(actor=admin, name="Garden")
    speaker = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": audio})
    mower = services.product_create(actor=admin, data={"sku": "MOW-1", "name": "Mower", "category": garden})
    plant = services.location_create(actor=admin, data={"code": "PLANT-A", "name": "Plant A", "location_type": "plant"})
    exec2 = make_user(Role.EXECUTIVE, email="second-exec@example.test", full_name="Second Exec")
    gone = make_user(Role.EXECUTIVE, email="gone-exec@example.test", full_name="Gone Exec")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    robot = make_user(Role.EXECUTIVE, email="robot@example.test", full_name="Robot", is_service_account=True)
    return SimpleNamespace(
        users=users, admin=admin, exec=users[Role.EXECUTIVE], exec2=exec2, gone=gone, robot=robot,
        planner=users[Role.DEMAND_PLANNER], supplier=users[Role.SUPPLY_PLANNER], coord=users[Role.SOP_COORDINATOR],
        audio=audio, garden=garden, speaker=speaker, mower=mower, plant=plant,
    )  # fmt: skip


def demand(w, product=None, period=MARCH, **data):
    data = {"period": period, "forecast_qty": Decimal("100"), **data}
    return services.demand_plan_create(actor=w.planner, product=product or w.speaker, data=data)


def notes(user, kind=None):
    qs = Notification.objects.filter(recipient=user).order_by("id")
    return list(qs.filter(kind=kind) if kind else qs)


def recipients(kind="approval_request") -> set:
    return set(Notification.objects.filter(kind=kind).values_list("recipient_id", flat=True))


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a service and deliver its after-commit events, as a committed request would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


# Plans: submit -------------------------------------------------------------------------------------


def test_submit_tells_every_active_approver_once_naming_sku_period_and_version(w, commit):
    plan = demand(w)
    services.demand_plan_update(actor=w.planner, plan=plan, data={"forecast_qty": Decimal("120")})
    commit(services.demand_plan_submit, actor=w.planner, plan=plan)
    assert recipients() == {w.admin.pk, w.exec.pk, w.exec2.pk}  # not the inactive one, the service account,
    (note,) = notes(w.exec)  # the submitter or roles without the approve permission (coordinator, planners)
    assert note.kind == "approval_request"
    assert note.title == "Demand plan submitted for approval: SPK-1 · 2026-03 · v2"
    assert note.body == f"Submitted for approval by {w.planner.full_name}."
    assert (note.entity_type, note.entity_id) == ("demand_plan", str(plan.pk))
    assert note.url == f"/demand/{plan.pk}/"
    assert note.read_at is None
    assert notes(w.gone) == []
    assert notes(w.robot) == []
    assert notes(w.planner) == []
    assert notes(w.coord) == []


def test_submit_of_a_supply_plan_names_the_location_and_links_its_page(w, commit):
    plan = services.supply_plan_create(actor=w.supplier, product=w.speaker, location=w.plant,
                                       data={"period": MARCH, "planned_prod_qty": Decimal("80")})  # fmt: skip
    commit(services.supply_plan_submit, actor=w.supplier, plan=plan)
    assert recipients() == {w.admin.pk, w.exec.pk, w.exec2.pk}
    (note,) = notes(w.admin)
    assert note.title == "Supply plan submitted for approval: SPK-1 @ PLANT-A · 2026-03 · v1"
    assert note.url == f"/supply/{plan.pk}/"


def test_only_approvers_who_can_read_the_plan_are_told(w, make_user, commit):
    """Approver roles are unscoped (ACC-09); a scoped user holding the permission still only hears about
    plans inside their scope."""
    approve = Permission.objects.get(codename="approve_demandplan", content_type__app_label="planning")
    audio_lead = make_user(Role.DEMAND_PLANNER, email="audio-lead@example.test")
    garden_lead = make_user(Role.DEMAND_PLANNER, email="garden-lead@example.test")
    for lead, category in ((audio_lead, w.audio), (garden_lead, w.garden)):
        lead.user_permissions.add(approve)
        user_scopes_set(actor=w.admin, user=lead, scopes=[{"type": "category", "id": category.pk, "access": "view"}])
    commit(services.demand_plan_submit, actor=w.planner, plan=demand(w))
    assert recipients() == {w.admin.pk, w.exec.pk, w.exec2.pk, audio_lead.pk}
    assert notes(garden_lead) == []


def test_a_transition_that_rolls_back_tells_nobody(w, commit):
    plan = demand(w)

    def submit_then_fail():
        with transaction.atomic():
            services.demand_plan_submit(actor=w.planner, plan=plan)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        commit(submit_then_fail)
    assert Notification.objects.count() == 0
    plan.refresh_from_db()
    assert plan.status == "draft"


def test_withdraw_and_edits_tell_nobody(w, commit):
    plan = demand(w)
    commit(services.demand_plan_submit, actor=w.planner, plan=plan)
    Notification.objects.all().delete()
    commit(services.demand_plan_withdraw, actor=w.planner, plan=plan)
    commit(services.demand_plan_update, actor=w.planner, plan=plan, data={"forecast_qty": Decimal("90")})
    assert Notification.objects.count() == 0


# Plans: decisions ----------------------------------------------------------------------------------


def test_approve_reject_and_reopen_tell_the_submitter(w, commit):
    plan = demand(w)
    commit(services.demand_plan_submit, actor=w.planner, plan=plan)
    Notification.objects.all().delete()

    commit(services.demand_plan_approve, actor=w.exec, plan=plan, comment="Looks right")
    (approved,) = notes(w.planner)
    assert approved.kind == "approval_decision"
    assert approved.title == "Demand plan approved: SPK-1 · 2026-03 · v1"
    assert approved.body == f"Approved by {w.exec.full_name}: Looks right"
    assert approved.url == f"/demand/{plan.pk}/"
    assert recipients("approval_decision") == {w.planner.pk}  # the approver is not told of their own decision

    commit(services.demand_plan_reopen, actor=w.admin, plan=plan, reason="Promo moved to April")
    reopened = notes(w.planner)[-1]
    assert reopened.title == "Demand plan reopened: SPK-1 · 2026-03 · v1"
    assert reopened.body == f"Reopened by {w.admin.full_name}: Promo moved to April"

    commit(services.demand_plan_submit, actor=w.planner, plan=plan)
    commit(services.demand_plan_reject, actor=w.exec2, plan=plan, comment="Too optimistic")
    rejected = notes(w.planner)[-1]
    assert rejected.title == "Demand plan rejected: SPK-1 · 2026-03 · v1"
    assert rejected.body == "Rejected by Second Exec: Too optimistic"
    assert len(notes(w.planner, "approval_decision")) == 3


def test_a_submitter_who_left_or_decided_their_own_plan_is_not_told(w, commit, settings, make_user):
    settings.ENFORCE_SEGREGATION_OF_DUTIES = False
    plan = services.demand_plan_create(actor=w.admin, product=w.speaker, data={"period": MARCH, "forecast_qty": 5})
    commit(services.demand_plan_submit, actor=w.admin, plan=plan)
    assert w.admin.pk not in recipients()  # nobody is asked to approve their own submission
    commit(services.demand_plan_approve, actor=w.admin, plan=plan)
    assert notes(w.admin, "approval_decision") == []

    leaver = make_user(Role.DEMAND_PLANNER, email="leaver@example.test")
    other = demand(w, period=date(2026, 4, 1))
    commit(services.demand_plan_submit, actor=leaver, plan=other)
    leaver.is_active = False
    leaver.save(update_fields=["is_active"])
    commit(services.demand_plan_reject, actor=w.exec, plan=other)
    assert notes(leaver, "approval_decision") == []


# Bulk ------------------------------------------------------------------------------------------------


def test_a_bulk_submit_gives_each_approver_one_grouped_notification(w, commit):
    months = [date(2026, m, 1) for m in range(1, 13)]
    plans = [demand(w, period=m) for m in months]
    with notify_approvals.batched():
        result = commit(services.demand_plan_bulk_transition, actor=w.planner, action="submit",
                        ids=[p.pk for p in plans])  # fmt: skip
    assert result["succeeded"] == 12
    assert Notification.objects.count() == 3  # admin, exec, exec2: one each, not 36
    (note,) = notes(w.exec)
    assert note.kind == "approval_request"
    assert note.title == "12 demand plans submitted for approval"
    assert note.url == "/demand/?status=submitted&period_from=2026-01&period_to=2026-12"
    assert (note.entity_type, note.entity_id) == ("demand_plan", "")
    assert note.body.startswith(f"Submitted for approval by {w.planner.full_name}: SPK-1 · 2026-01 · v1; ")
    assert note.body.endswith("SPK-1 · 2026-10 · v1; and 2 more.")

    with notify_approvals.batched():
        commit(services.demand_plan_bulk_transition, actor=w.exec, action="reject", ids=[p.pk for p in plans[:3]],
               comment="Revisit the seasonality")  # fmt: skip
    (decision,) = notes(w.planner, "approval_decision")
    assert decision.title == "3 demand plans rejected"
    assert decision.url == "/demand/?status=rejected&period_from=2026-01&period_to=2026-03"
    assert decision.body.endswith("Comment: Revisit the seasonality")


def test_a_single_row_in_a_batch_reads_like_a_single_notification(w, commit):
    plan = demand(w)
    with notify_approvals.batched():
        commit(services.demand_plan_bulk_transition, actor=w.planner, action="submit", ids=[plan.pk])
    assert notes(w.exec)[0].title == "Demand plan submitted for approval: SPK-1 · 2026-03 · v1"


@pytest.mark.django_db(transaction=True)
def test_the_console_bulk_bar_groups_per_recipient_within_the_request(users, client):
    """A real request: each row commits on its own, the notifications go out once the request finishes."""
    admin, planner, executive = users[Role.ADMIN], users[Role.DEMAND_PLANNER], users[Role.EXECUTIVE]
    category = services.category_create(actor=admin, name="Audio")
    product = services.product_create(actor=admin, data={"sku": "SPK-9", "name": "Speaker", "category": category})
    plans = [
        services.demand_plan_create(
            actor=planner, product=product, data={"period": date(2026, m, 1), "forecast_qty": 10}
        )
        for m in (4, 5, 6)
    ]
    client.force_login(planner)
    response = client.post("/demand/bulk/", {"action": "submit", "ids": [p.pk for p in plans]})
    assert response.status_code == 302
    titles = list(Notification.objects.filter(recipient=executive).values_list("title", flat=True))
    assert titles == ["3 demand plans submitted for approval"]
    assert Notification.objects.filter(recipient=admin).count() == 1

    client.force_login(executive)
    client.post(f"/demand/{plans[0].pk}/approve/", {})
    single = Notification.objects.filter(recipient=planner).get()
    assert single.title == "Demand plan approved: SPK-9 · 2026-04 · v1"


def test_a_request_batch_left_open_never_holds_back_work_done_outside_requests(w, commit):
    """A response whose body was never read never fires request_finished; later work must not wait."""
    notify_approvals._on_request_started(sender=None)
    try:
        commit(services.demand_plan_submit, actor=w.planner, plan=demand(w))
        assert len(notes(w.exec)) == 1
    finally:
        notify_approvals._on_request_finished(sender=None)
    assert len(notes(w.exec)) == 1


# Consensus -----------------------------------------------------------------------------------------


@pytest.fixture
def consensus(w):
    run = make_run(w.speaker, as_of=P1, predictions=[100, 110, 120])
    return forecasting.consensus_create(actor=w.planner, data={"forecast_run_audit_id": run.pk, "period": P1})


def test_a_proposed_consensus_asks_ops_and_the_decision_goes_back_to_the_proposer(w, consensus, commit):
    commit(forecasting.consensus_propose, actor=w.planner, consensus=consensus)
    # OPS = admin, coordinator, executives (approve_forecastconsensus); not the proposer, not planners.
    assert recipients() == {w.admin.pk, w.coord.pk, w.exec.pk, w.exec2.pk}
    (note,) = notes(w.coord)
    assert note.title == "Consensus forecast proposed for approval: SPK-1 · 2027-01 · v1"
    assert (note.entity_type, note.entity_id) == ("forecast_consensus", str(consensus.pk))
    assert note.url.startswith("/forecasting/?")
    assert f"run={consensus.forecast_run_id}" in note.url
    assert "period=2027-01" in note.url

    commit(forecasting.consensus_return, actor=w.coord, consensus=consensus, comment="Add the promo uplift")
    (returned,) = notes(w.planner)
    assert returned.kind == "approval_decision"
    assert returned.title == "Consensus forecast returned: SPK-1 · 2027-01 · v1"
    assert returned.body == f"Returned by {w.coord.full_name}: Add the promo uplift"

    consensus.refresh_from_db()
    commit(forecasting.consensus_propose, actor=w.planner, consensus=consensus)
    commit(forecasting.consensus_approve, actor=w.exec, consensus=consensus)
    approved = notes(w.planner)[-1]
    assert approved.title == "Consensus forecast approved: SPK-1 · 2027-01 · v1"
    assert recipients("approval_decision") == {w.planner.pk}


def test_a_failing_notification_never_undoes_the_transition(w, commit, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("mail room on fire")

    monkeypatch.setattr(notify_approvals, "notification_create_many", broken)
    plan = demand(w)
    commit(services.demand_plan_submit, actor=w.planner, plan=plan)
    plan.refresh_from_db()
    assert plan.status == "submitted"
    assert "event_subscriber_failed" in caplog.text

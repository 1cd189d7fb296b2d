"""The Production Scheduling console (UI-06): generate with the replace confirmation, capacity diagnostics,
slot status and order controls, the charts, and who sees what."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from governance.choices import Role
from governance.models import AuditEvent
from planning import services
from planning.models import ProductionSchedule
from planning.services.production import production_schedule_generate, production_schedule_set_status
from tests.planning import supply_world
from tests.planning.supply_world import supply
from tests.planning.test_catalog_console import assert_csp_clean

pytestmark = pytest.mark.django_db

PAGE = reverse("planning:production_schedule")
GENERATE = reverse("planning:production_schedule_generate")


@pytest.fixture
def w(users):
    return supply_world.build(users)


def approved(w, **data):
    plan = supply(w, **data)
    services.supply_plan_submit(actor=w.planner, plan=plan)
    return services.supply_plan_approve(actor=w.exec, plan=plan)


def generate(w, plan, **kwargs):
    args = {"workcenters": ["WC-1", "WC-2"], "lines": ["Line-1"], "shifts": ["Shift-A", "Shift-B"],
            "duration_hours_per_slot": 8, **kwargs}  # fmt: skip
    return production_schedule_generate(actor=w.planner, supply_plan=plan, **args).slots


def form(plan, **data):
    return {"supply_plan_id": plan.pk, "workcenters": "WC-1, WC-2", "lines": "Line-1",
            "duration_hours_per_slot": 8, "shifts": ["Shift-A", "Shift-B"], **data}  # fmt: skip


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_generate_from_the_form_and_see_diagnostics_slots_and_charts(client, w):
    # planned 100.00 over capacity 80.00 → 125.0 %, overloaded
    plan = approved(w, planned_prod_qty=Decimal("100"), capacity_max=Decimal("80"))
    client.force_login(w.planner)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = text(page)
    assert "Generate Schedule" in html
    assert "SPK-1 · PLANT-A · Mar 2026 · 100.00" in html
    assert re.search(r'name="shifts" value="Shift-A"[^>]*checked', html)
    assert not re.search(r'name="shifts" value="Shift-C"[^>]*checked', html)
    response = client.post(GENERATE, form(plan), follow=True)
    assert response.redirect_chain == [(f"{PAGE}?supply_plan_id={plan.pk}", 302)]
    html = text(response)
    assert "4 slots generated" in html
    assert ProductionSchedule.objects.filter(supply_plan=plan).count() == 4
    # Cards: 4 slots, 100.00 planned, 80.00 capacity, 100 / 80 x 100 = 125.0 %, Overloaded
    for stat, value in (("slots", "4"), ("planned", "100.00"), ("capacity", "80.00"), ("utilization", "125.0%"),
                        ("status", "Overloaded")):  # fmt: skip
        assert f'data-stat="{stat}">{value}<' in html, stat
    # Capacity share line = 80 / 4 groups = 20.00; each group plans 25.00 → every bar is above it
    assert "Capacity share (20.00 = capacity max ÷ groups)" in html
    assert html.count('class="chart__bar chart__bar--over"') == 4
    assert '<td>WC-2</td><td>Line-1</td><td>Shift-B</td><td class="num">1</td><td class="num">25.00</td>' in html
    # Slots: times in UTC, statuses, controls; the timeline has one lane per workcenter and line and a bar per slot
    assert "Mar 2, 2026 06:00" in html
    assert "Mar 1, 2026 22:00" in html
    assert html.count('class="timeline__lane"') == 2
    assert html.count("data-slot-seq=") == 4
    assert html.count('aria-label="Move slot') == 6  # up on 2..4, down on 1..3
    assert html.count('<option value="released">Released</option>') == 4
    assert_csp_clean(response.content.decode(), PAGE)


def test_regenerating_asks_to_confirm_the_replacement_first(client, w):
    plan = approved(w)
    old = generate(w, plan)
    client.force_login(w.coord)
    # The first post only warns; nothing is replaced yet
    response = client.post(GENERATE, form(plan, workcenters="WC-9", shifts=["Shift-C"]))
    assert response.status_code == 200
    html = text(response)
    assert "already has 4 slots. Regenerating replaces every one of them" in html
    assert 'name="confirm_replace" value="true"' in html
    assert "Replace 4 slots" in html
    assert set(ProductionSchedule.objects.values_list("pk", flat=True)) == {s.pk for s in old}
    # Confirming replaces them
    response = client.post(GENERATE, form(plan, workcenters="WC-9", shifts=["Shift-C"], confirm_replace="true"),
                           follow=True)  # fmt: skip
    assert "1 slots generated" in text(response)
    assert "replacing 4" in text(response)
    assert list(ProductionSchedule.objects.values_list("workcenter", "shift", "planned_qty")) == [
        ("WC-9", "Shift-C", Decimal("100.00"))
    ]
    assert AuditEvent.objects.filter(event_type="planning.production_schedule.replaced").count() == 4


def test_refusals_come_back_on_the_form(client, w):
    plan = approved(w)
    slot = generate(w, plan)[0]
    production_schedule_set_status(actor=w.planner, slot=slot, status="released")
    production_schedule_set_status(actor=w.planner, slot=slot, status="in_progress")
    client.force_login(w.planner)
    response = client.post(GENERATE, form(plan, confirm_replace="true"))
    assert response.status_code == 400
    assert "Work has started on this schedule" in text(response)
    response = client.post(GENERATE, form(plan, workcenters=" , ", confirm_replace="true"))
    assert response.status_code == 400
    assert "Give at least one non-blank value." in text(response)
    response = client.post(GENERATE, form(plan, shifts=[]))
    assert response.status_code == 400
    assert ProductionSchedule.objects.filter(supply_plan=plan).count() == 4


def test_set_status_offers_only_allowed_moves_and_applies_them(client, w):
    plan = approved(w)
    slots = generate(w, plan)
    client.force_login(w.exec)
    html = text(client.get(PAGE, {"supply_plan_id": plan.pk}))
    # Executives set statuses but neither generate nor reorder
    assert "Generate Schedule" not in html
    assert 'aria-label="Move slot' not in html
    status_url = reverse("planning:production_schedule_status", args=[slots[0].pk])
    response = client.post(status_url, {"status": "released"}, follow=True)
    assert "Slot 1 is now released." in text(response)
    slots[0].refresh_from_db()
    assert (slots[0].status, slots[0].released_by) == ("released", w.exec)
    row = re.search(rf'<tr data-slot="{slots[0].pk}">.*?</tr>', text(response)).group(0)
    assert '<option value="draft">Draft</option>' in row
    assert '<option value="in_progress">In progress</option>' in row
    assert "Completed</option>" not in row
    # A move the map does not allow is an error message, not a change
    response = client.post(status_url, {"status": "completed"}, follow=True)
    assert "cannot go from released to completed" in text(response)
    slots[0].refresh_from_db()
    assert slots[0].status == "released"
    assert AuditEvent.objects.filter(event_type="planning.production_schedule.released", actor=w.exec).count() == 1


def test_reorder_buttons_move_slots(client, w):
    plan = approved(w)
    slots = generate(w, plan)
    client.force_login(w.planner)
    move = reverse("planning:production_schedule_move", args=[slots[1].pk])
    response = client.post(move, {"direction": "down"}, follow=True)
    assert "moved down" in text(response)
    assert list(ProductionSchedule.objects.filter(supply_plan=plan).order_by("sequence_order")
                .values_list("pk", flat=True)) == [slots[0].pk, slots[2].pk, slots[1].pk, slots[3].pk]  # fmt: skip
    assert AuditEvent.objects.filter(event_type="planning.production_schedule.resequenced").count() == 2


def test_who_may_see_and_act(client, w):
    plan = approved(w)
    slot = generate(w, plan)[0]
    for role in (Role.VIEWER, Role.DEMAND_PLANNER, Role.FINANCE_ANALYST, Role.INVENTORY_MANAGER):
        client.force_login(w.users[role])
        assert client.get(PAGE).status_code == 403, role
        assert client.post(reverse("planning:production_schedule_status", args=[slot.pk]),
                           {"status": "released"}).status_code == 403  # fmt: skip
    client.force_login(w.exec)
    assert client.post(GENERATE, form(plan)).status_code == 403
    assert client.post(reverse("planning:production_schedule_move", args=[slot.pk]),
                       {"direction": "down"}).status_code == 403  # fmt: skip
    client.logout()
    assert client.get(PAGE).status_code == 302
    slot.refresh_from_db()
    assert (slot.status, slot.sequence_order) == ("draft", 1)


def test_navigation_lists_the_page_for_readers_only(client, w):
    client.force_login(w.exec)
    assert f'href="{PAGE}"' in client.get(reverse("planning:supply_plan_list")).content.decode()
    client.force_login(w.users[Role.DEMAND_PLANNER])
    assert f'href="{PAGE}"' not in client.get(reverse("planning:supply_plan_list")).content.decode()


def test_empty_states(client, w):
    client.force_login(w.planner)
    html = text(client.get(PAGE))
    assert "No approved supply plan with a planned quantity is in your scope." in html
    client.force_login(w.exec)
    assert "No production schedule is in your scope yet." in text(client.get(PAGE))


def test_capacity_chart_geometry():
    from planning.charts import capacity_bar_chart

    chart = capacity_bar_chart([{"label": "WC-1 · Line-1 · Shift-A", "short": "A", "value": Decimal("25")},
                                {"label": "WC-1 · Line-1 · Shift-B", "short": "B", "value": Decimal("10")}],
                               capacity_share=Decimal("20"))  # fmt: skip
    # Ticks 0..25 by 5 on a plot from y=220 (0) up to y=16 (25): 20 sits at 220 - 20 / 25 x 204 = 56.8
    assert [t["label"] for t in chart.y_ticks] == ["0", "5", "10", "15", "20", "25"]
    assert chart.marker == {"y": 56.8, "x0": 64, "x1": 696, "value": 20.0}
    # Two slots of 316 px; bars 80 px wide (60 % of a slot, at most 80) centred at 222 and 538
    assert [(b["key"], b["x"], b["width"], b["y"], b["height"]) for b in chart.bars] == [
        ("over", 182.0, 80, 16.0, 204.0), ("planned", 498.0, 80, 138.4, 81.6),
    ]  # fmt: skip
    assert capacity_bar_chart([], capacity_share=None).bars == []


def test_timeline_geometry():
    import datetime
    from zoneinfo import ZoneInfo

    from planning.charts import timeline_chart

    utc = datetime.UTC
    slots = [
        {"row": "WC-1 · Line-1", "start": datetime.datetime(2026, 3, 1, 6, tzinfo=utc),
         "end": datetime.datetime(2026, 3, 1, 14, tzinfo=utc), "label": "1", "status": "draft", "title": "1"},
        {"row": "WC-2 · Line-1", "start": datetime.datetime(2026, 3, 2, 6, tzinfo=utc),
         "end": datetime.datetime(2026, 3, 2, 14, tzinfo=utc), "label": "2", "status": "released", "title": "2"},
    ]  # fmt: skip
    chart = timeline_chart(["WC-1 · Line-1", "WC-2 · Line-1"], slots, zone=ZoneInfo("UTC"), width=596, left=100)
    # Midnight Mar 1 to midnight Mar 3 = 48 h over 480 px (596 - 100 - 16): 10 px an hour
    assert [(t["x"], t["label"]) for t in chart["ticks"]] == [(100.0, "Mar 1"), (340.0, "Mar 2"), (580.0, "Mar 3")]
    # Slot 1 from 06:00 (x 160) for 8 h (80 px) in lane 1 (y 8 + 6); slot 2 a day later in lane 2 (y 44 + 6)
    assert [(b["x"], b["width"], b["y"], b["height"]) for b in chart["bars"]] == [(160.0, 80.0, 14, 24),
                                                                                (400.0, 80.0, 50, 24)]  # fmt: skip
    assert chart["height"] == 8 + 34 + 2 * 36


def test_a_read_only_scope_shows_the_schedule_but_offers_neither_generation_nor_controls(client, w, make_user):
    from governance.services.scopes import user_scopes_set

    plan = approved(w)
    generate(w, plan)
    reader = make_user(Role.SUPPLY_PLANNER)
    user_scopes_set(actor=w.admin, user=reader, scopes=[{"type": "location", "id": w.plant.pk, "access": "view"}])
    client.force_login(reader)
    html = text(client.get(PAGE))
    assert 'data-stat="slots">4<' in html
    assert "No approved supply plan with a planned quantity is in your scope." in html
    assert 'aria-label="Move slot' not in html
    assert 'name="status"' not in html
    assert client.post(GENERATE, form(plan)).status_code == 400  # not among the plans offered
    assert ProductionSchedule.objects.filter(supply_plan=plan).count() == 4


def test_the_admin_lists_slots_read_only(client, w):
    generate(w, approved(w))
    client.force_login(w.admin)
    response = client.get("/admin/planning/productionschedule/")
    assert response.status_code == 200
    assert text(response).count("WC-2") >= 2
    assert client.get("/admin/planning/productionschedule/add/").status_code == 403

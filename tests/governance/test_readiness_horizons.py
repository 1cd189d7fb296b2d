"""GOV-60 lanes and horizons, and the freeze windows other services ask about (WF-10, GOV-51)."""

import datetime
from datetime import date

import pytest

from governance.models import Publication, PublishPolicy, SopCycle
from governance.services.readiness import freeze_window_contains, in_any_current_freeze_window, lane_horizon
from planning.models import DemandPlan, SupplyPlan
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db


def policy(lane: str, **changes) -> PublishPolicy:
    row = PublishPolicy.objects.get(lane=lane)
    for name, value in changes.items():
        setattr(row, name, value)
    return row


def rows_until(last: date, start: date = date(2026, 12, 1)) -> None:
    product, location = ProductFactory(), LocationFactory()
    period = start
    while period <= last:
        DemandPlan.objects.create(product=product, period=period, forecast_qty=1)
        SupplyPlan.objects.create(product=product, period=period, location=location, planned_prod_qty=1)
        period = (period + datetime.timedelta(days=32)).replace(day=1)


def test_the_seeded_policies_carry_the_spec_defaults():
    weekly, monthly = PublishPolicy.objects.get(lane="weekly"), PublishPolicy.objects.get(lane="monthly")
    assert (weekly.horizon_min, weekly.horizon_max, weekly.freeze_days, weekly.required_score) == (4, 8, 14, 4)
    assert (monthly.horizon_min, monthly.horizon_max, monthly.freeze_months, monthly.required_score) == (6, 18, 1, 3)


def test_weekly_horizon_runs_from_the_current_month_to_the_month_of_today_plus_horizon_max_weeks():
    horizon = lane_horizon(policy("weekly"), today=date(2026, 11, 26))  # + 56 days = 2027-01-21
    assert (horizon.period_from, horizon.period_to) == (date(2026, 11, 1), date(2027, 1, 1))
    assert horizon.periods == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]
    # [Nov 26, Dec 10] overlaps November and December
    assert horizon.freeze_periods == [date(2026, 11, 1), date(2026, 12, 1)]
    assert horizon.long_enough is True


def test_weekly_freeze_window_inside_one_month():
    horizon = lane_horizon(policy("weekly"), today=date(2026, 11, 3))
    assert horizon.freeze_periods == [date(2026, 11, 1)]  # Nov 3..17
    assert horizon.period_to == date(2026, 12, 1)  # Nov 3 + 56 days = Dec 29
    assert lane_horizon(policy("weekly", freeze_days=0), today=date(2026, 11, 30)).freeze_periods == [date(2026, 11, 1)]


def test_monthly_horizon_is_truncated_to_the_last_period_with_current_rows():
    rows_until(date(2027, 6, 1))
    horizon = lane_horizon(policy("monthly"), today=date(2026, 11, 26), period_from=date(2026, 12, 15))
    assert (horizon.period_from, horizon.period_to) == (date(2026, 12, 1), date(2027, 6, 1))
    assert len(horizon.periods) == 7
    assert horizon.long_enough is True
    assert horizon.freeze_periods == [date(2026, 12, 1)]  # the first freeze_months periods


def test_monthly_horizon_shorter_than_horizon_min_is_not_long_enough():
    rows_until(date(2027, 3, 1))
    horizon = lane_horizon(policy("monthly"), today=date(2026, 11, 26), period_from=date(2026, 12, 1))
    assert horizon.period_to == date(2027, 3, 1)
    assert horizon.long_enough is False
    assert lane_horizon(policy("monthly", horizon_min=4), today=date(2026, 11, 26),
                        period_from=date(2026, 12, 1)).long_enough is True  # fmt: skip


def test_monthly_horizon_stops_at_horizon_max_and_ignores_rows_beyond_it():
    rows_until(date(2028, 12, 1))
    horizon = lane_horizon(policy("monthly"), today=date(2026, 11, 26), period_from=date(2026, 12, 1))
    assert horizon.period_to == date(2028, 5, 1)  # 18 periods
    assert len(horizon.periods) == 18
    assert lane_horizon(policy("monthly", freeze_months=2), period_from=date(2026, 12, 1)).freeze_periods == [
        date(2026, 12, 1), date(2027, 1, 1)
    ]  # fmt: skip


def test_monthly_horizon_without_rows_is_one_period_and_not_long_enough():
    horizon = lane_horizon(policy("monthly"), today=date(2026, 11, 26))
    assert (horizon.period_from, horizon.period_to, horizon.long_enough) == (date(2026, 11, 1), date(2026, 11, 1),
                                                                              False)  # fmt: skip


def test_monthly_period_from_defaults_to_the_given_cycle_then_the_active_cycle_then_the_current_month(users):
    today = date(2026, 11, 26)
    assert lane_horizon(policy("monthly"), today=today).period_from == date(2026, 11, 1)
    active = SopCycle.objects.create(cycle_name="January", period=date(2027, 1, 1))
    assert lane_horizon(policy("monthly"), today=today).period_from == date(2027, 1, 1)
    linked = SopCycle.objects.create(cycle_name="February", period=date(2027, 2, 1), overall_status="completed")
    horizon = lane_horizon(policy("monthly"), today=today, sop_cycle=linked)
    assert (horizon.period_from, horizon.sop_cycle) == (date(2027, 2, 1), linked)
    # An explicit period wins over both
    assert lane_horizon(policy("monthly"), today=today, period_from=date(2027, 3, 9),
                        sop_cycle=active).period_from == date(2027, 3, 1)  # fmt: skip


def test_freeze_window_contains_follows_the_lane_of_the_locking_publication(users):
    from governance.services.readiness import _planning_today
    from tests.governance.test_readiness_world import World

    world = World(users["admin"])
    evaluation = world.evaluate("monthly")
    publication = Publication.objects.create(
        version_stamp="M-TEST-v1", lane="monthly", period_from=evaluation.period_from,
        period_to=evaluation.period_to, evaluation=evaluation, outcome="go", published_by=world.admin,
        published_at=evaluation.created_at, snapshot_sha256="",
    )  # fmt: skip
    first, later = world.demand[world.periods[0]], world.demand[world.periods[2]]
    DemandPlan.objects.filter(pk__in=[first.pk, later.pk]).update(status="locked", locked_by_publication=publication)
    first.refresh_from_db()
    later.refresh_from_db()
    assert freeze_window_contains(first) is True  # monthly: the first period of the publication
    assert freeze_window_contains(later) is False
    assert freeze_window_contains(world.demand[world.periods[1]]) is False  # not locked by a publication

    today = _planning_today()
    assert in_any_current_freeze_window(today) is True  # the current monthly publication freezes its first month
    assert in_any_current_freeze_window(world.periods[4]) is False
    Publication.objects.filter(pk=publication.pk).update(status="rolled_back")
    assert in_any_current_freeze_window(today) is False  # no current publication, nothing frozen (GOV-51)

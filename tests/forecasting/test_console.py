"""The Forecasting console (UI-09): the workbench tabs of one series, over the same services and
selectors as the API; what each role sees and may press, and what pressing does."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from forecasting.models import Forecast, ForecastAnomaly, ForecastConsensus, ForecastJob, ForecastRun
from forecasting.series import add_months, last_closed_month
from governance.choices import Role
from governance.models import AuditEvent
from planning import services as planning_services
from planning.models import DemandPlan
from tests.forecasting.builders import make_run
from tests.forecasting.history_data import seasonal, write_actuals
from tests.planning.test_catalog_console import assert_csp_clean

pytestmark = pytest.mark.django_db

WORKBENCH = reverse("forecasting:workbench")
D = Decimal
READERS = [Role.ADMIN, Role.EXECUTIVE, Role.DEMAND_PLANNER, Role.SUPPLY_PLANNER, Role.INVENTORY_MANAGER,
           Role.FINANCE_ANALYST, Role.SOP_COORDINATOR]  # fmt: skip


@pytest.fixture
def w(users):
    admin = users[Role.ADMIN]
    audio = planning_services.category_create(actor=admin, name="Audio")
    speaker = planning_services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": audio})
    mower = planning_services.product_create(actor=admin, data={"sku": "MOW-1", "name": "Mower", "category": audio})
    write_actuals(speaker, seasonal(30))
    return SimpleNamespace(admin=admin, users=users, planner=users[Role.DEMAND_PLANNER], speaker=speaker,
                           mower=mower, audio=audio, as_of=add_months(last_closed_month(), 1))  # fmt: skip


def url(tab=None, product=None, **extra):
    params = {"product": getattr(product, "pk", product), "tab": tab, **extra}
    query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return f"{WORKBENCH}?{query}" if query else WORKBENCH


def login(client, user):
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def follow_messages(client, response) -> list[str]:
    assert response.status_code == 302, getattr(response, "content", b"")[:500]
    page = client.get(response["Location"])
    return messages_of(page)


# Access ---------------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(WORKBENCH)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_viewer_gets_403_everywhere_and_no_nav_entry(client, w):
    run = make_run(w.speaker, as_of=w.as_of, predictions=[100, 110])
    login(client, w.users[Role.VIEWER])
    create = f"{reverse('forecasting:consensus_create')}?run={run.pk}&period=2020-01"
    pages = [WORKBENCH, url("forecast", w.speaker), reverse("forecasting:accuracy"),
             reverse("forecasting:anomalies"), reverse("forecasting:jobs"), create]  # fmt: skip
    for target in pages:
        response = client.get(target)
        assert response.status_code == 403, target
        assert b"Access denied. Insufficient permissions." in response.content
    assert client.post(reverse("forecasting:generate"), {"product": w.speaker.pk, "mode": "now"}).status_code == 403
    assert client.post(reverse("forecasting:promote", args=[run.pk]), {}).status_code == 403
    assert "Forecasting" not in [item["label"] for item in client.get("/").context["nav_items"]]


@pytest.mark.parametrize("role", READERS)
@pytest.mark.parametrize("tab", ["historical", "backtesting", "setup", "forecast", "results"])
def test_every_reader_opens_every_tab(client, w, role, tab):
    make_run(w.speaker, as_of=w.as_of, predictions=[100, 110, 120])
    login(client, w.users[role])
    response = client.get(url(tab, w.speaker))
    assert response.status_code == 200
    assert response.context["tab"] == tab
    assert_csp_clean(response.content.decode(), tab)
    nav = client.get("/").context["nav_items"]
    assert any(item["label"] == "Forecasting" and item["url"] == WORKBENCH for item in nav)


@pytest.mark.parametrize("page", ["accuracy", "anomalies", "jobs"])
@pytest.mark.parametrize("role", READERS)
def test_every_reader_opens_the_side_pages(client, w, role, page):
    login(client, w.users[role])
    response = client.get(reverse(f"forecasting:{page}"))
    assert response.status_code == 200
    assert_csp_clean(response.content.decode(), page)


def test_a_product_outside_the_scope_is_404(client, w):
    login(client, w.planner)
    assert client.get(url("historical", 999999)).status_code == 404


# Historical -----------------------------------------------------------------------------------


def test_historical_tab_shows_the_actuals_pattern_chips_and_anomaly_markers(client, w):
    spike = add_months(last_closed_month(), -3)
    DemandPlan.objects.filter(product=w.speaker, period=spike).update(actual_qty=D("900"))
    ForecastAnomaly.objects.create(product=w.speaker, period=spike, value=D("900"), expected=D("120"),
                                   direction="spike", severity="high", detected_at=timezone.now())  # fmt: skip
    login(client, w.planner)
    response = client.get(url("historical", w.speaker, range=12))
    html = response.content.decode()
    assert len(response.context["history_rows"]) == 12
    assert response.context["history_months"] == 30
    assert response.context["pattern"] in {"smooth", "erratic"}
    assert 'id="history-chart"' in html
    assert f'data-anomaly="{spike:%Y-%m}"' in html  # the marker on the spike month
    assert "900" in html
    assert 'id="detect-form"' in html


def test_detect_anomalies_posts_to_the_service_and_reports_the_count(client, w):
    spike = add_months(last_closed_month(), -3)
    DemandPlan.objects.filter(product=w.speaker, period=spike).update(actual_qty=D("5000"))
    login(client, w.planner)
    form = {"product": w.speaker.pk, "region": "Global", "channel": "All", "method": "zscore"}
    response = client.post(reverse("forecasting:anomalies_detect"), form)
    found = ForecastAnomaly.objects.filter(product=w.speaker)
    assert found.filter(period=spike).exists()
    assert response["Location"] == url("historical", w.speaker)
    assert any("found in the history of SPK-1" in m for m in follow_messages(client, response))


def test_a_bad_threshold_is_an_error_message_not_an_error_page(client, w):
    login(client, w.planner)
    response = client.post(reverse("forecasting:anomalies_detect"),
                           {"product": w.speaker.pk, "method": "zscore", "threshold": "-1"})  # fmt: skip
    assert response.status_code == 302
    assert any("Threshold" in m for m in follow_messages(client, response))
    assert not ForecastAnomaly.objects.exists()


def test_readers_without_write_permissions_see_no_write_buttons_and_get_403(client, w):
    run = make_run(w.speaker, as_of=w.as_of, predictions=[100, 110])
    login(client, w.users[Role.INVENTORY_MANAGER])
    for tab in ("historical", "setup", "results"):
        html = client.get(url(tab, w.speaker)).content.decode()
        for marker in ('id="detect-form"', 'id="generate-form"', "Promote to demand plan", ">Discard<",
                       "Delete all for product"):  # fmt: skip
            assert marker not in html, (tab, marker)
    assert client.post(reverse("forecasting:anomalies_detect"), {"product": w.speaker.pk}).status_code == 403
    assert client.post(reverse("forecasting:generate"), {"product": w.speaker.pk, "mode": "now"}).status_code == 403
    assert client.post(reverse("forecasting:generate"), {"product": w.speaker.pk, "mode": "job"}).status_code == 403
    assert client.post(reverse("forecasting:run_discard", args=[run.pk])).status_code == 403


# Backtesting ----------------------------------------------------------------------------------


def test_backtesting_ranks_the_models_with_their_metrics_and_offers_use_model(client, w):
    login(client, w.planner)
    response = client.get(
        url("backtesting", w.speaker, window=6, min_train=6, models="ewma") + "&models=moving_average"
    )
    assert response.status_code == 200
    rows = response.context["comparison_rows"]
    assert [r["rank"] for r in rows] == [1, 2]
    assert {r["model_type"] for r in rows} == {"ewma", "moving_average"}
    html = response.content.decode()
    assert 'id="comparison-table"' in html
    assert 'id="backtest-chart"' in html
    assert {t[1] for t in response.context["bt_tiles"]} >= {"mape", "smape", "wape", "rmse", "mase", "score"}
    assert "Use model" in html
    assert "tab=setup" in rows[0]["use_url"]


def test_backtesting_with_a_parameter_grid_keeps_the_best_params(client, w):
    login(client, w.planner)
    grid = '{"ewma": [{"alpha": 0.2}, {"alpha": 0.6}]}'
    query = {"product": w.speaker.pk, "tab": "backtesting", "window": 6, "min_train": 6, "models": ["ewma"],
             "parameter_grid": grid}  # fmt: skip
    response = client.get(WORKBENCH, query)
    (row,) = response.context["comparison_rows"]
    assert row["best_params"]["alpha"] in (0.2, 0.6)
    assert "params=" in row["use_url"]


@pytest.mark.parametrize("grid", ["{not json", '{"ewma": {"alpha": 1}}'])
def test_a_bad_grid_is_a_form_error(client, w, grid):
    login(client, w.planner)
    response = client.get(
        WORKBENCH, {"product": w.speaker.pk, "tab": "backtesting", "window": 6, "min_train": 6, "parameter_grid": grid}
    )
    assert response.status_code == 200
    assert response.context["backtest_form"].errors["parameter_grid"]
    assert "comparison" not in response.context


def test_backtesting_a_series_without_history_is_a_form_error(client, w):
    login(client, w.planner)
    response = client.get(WORKBENCH, {"product": w.mower.pk, "tab": "backtesting", "window": 6, "min_train": 6})
    assert response.status_code == 200
    assert "history months" in " ".join(response.context["backtest_form"].non_field_errors())


# Model setup and generation -------------------------------------------------------------------


def test_model_setup_disables_unavailable_models_with_the_reason(client, w):
    login(client, w.planner)
    response = client.get(url("setup", w.speaker, model="ewma", params='{"alpha": 0.3}'))
    html = response.content.decode()
    assert '<option value="prophet" disabled>' in html
    assert "unavailable: Not installed on this server" in html
    assert '<option value="ewma" selected>' in html
    assert "{&quot;alpha&quot;: 0.3}" in html
    catalogue = {r["id"]: r for r in response.context["catalogue"]}
    assert catalogue["gradient_boosting"]["disabled"] is False  # 30 months >= 24
    assert {"now", "job", "all"} <= set(_modes(html))


def _modes(html: str) -> list[str]:
    import re

    return re.findall(r'name="mode" value="(\w+)"', html)


def _generate(client, w, mode, **extra):
    data = {"product": w.speaker.pk, "region": "Global", "channel": "All", "horizon": 3, "model_type": "",
            "model_params": "", "mode": mode, **extra}  # fmt: skip
    return client.post(reverse("forecasting:generate"), data)


def test_generate_now_writes_a_run_and_opens_the_forecast(client, w):
    login(client, w.planner)
    response = _generate(client, w, "now", model_type="ewma", model_params='{"alpha": 0.3}')
    run = ForecastRun.objects.get(product=w.speaker)
    assert (run.model_used, run.horizon, run.model_params["alpha"]) == ("ewma", 3, 0.3)
    assert Forecast.objects.filter(run=run).count() == 3
    assert response["Location"] == url("forecast", w.speaker, run=run.pk)
    assert any("Forecast generated for SPK-1 with ewma" in m for m in follow_messages(client, response))


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"model_params": "{bad"}, "valid JSON"),
        ({"model_type": "ewma", "model_params": '{"nonsense": 1}'}, "nonsense"),
        ({"horizon": 99}, "Horizon"),
        ({"model_type": "prophet"}, "not available"),
    ],
)
def test_generate_refusals_are_messages_and_write_nothing(client, w, extra, expected):
    login(client, w.planner)
    response = _generate(client, w, "now", **extra)
    assert response.status_code == 302
    assert any(expected in m for m in follow_messages(client, response))
    assert not ForecastRun.objects.exists()


def test_generate_without_history_says_insufficient_data(client, w):
    login(client, w.planner)
    data = {"product": w.mower.pk, "horizon": 3, "mode": "now"}
    response = client.post(reverse("forecasting:generate"), data)
    assert any("history months" in m for m in follow_messages(client, response))
    assert not ForecastRun.objects.exists()


def test_generate_as_job_and_for_all_products_queue_jobs(client, w, django_capture_on_commit_callbacks):
    login(client, w.planner)
    response = _generate(client, w, "job")
    job = ForecastJob.objects.get()
    assert (job.kind, job.product, job.horizon, job.requested_by) == ("generate", w.speaker, 3, w.planner)
    assert response["Location"] == f"{reverse('forecasting:jobs')}?highlight={job.job_id}"
    response = _generate(client, w, "all")
    batch = ForecastJob.objects.exclude(pk=job.pk).get()
    assert batch.kind == "batch_generate"
    assert batch.scope["all_active"] is True
    assert any("queued for all active products" in m for m in follow_messages(client, response))


# Forecast view and consensus -----------------------------------------------------------------


def _run(w, predictions=(100, 110, 120), **kwargs):
    run = make_run(w.speaker, as_of=w.as_of, predictions=list(predictions), user=w.planner, **kwargs)
    run.candidate_metrics = [
        {"model_type": "exp_smoothing", "rank": 1, "score": 5.0, "mape": 4.0, "wape": 4.0, "rmse": 3.0, "bias": 1.0},
        {"model_type": "ewma", "rank": 2, "score": 7.0, "mape": 6.0, "wape": 2.0, "rmse": 4.0, "bias": -1.0},
    ]
    run.selection_reason = "Selected exp_smoothing with the lowest backtest score 5.0 among 2 candidates."
    run.fallback_chain = ["exp_smoothing"]
    run.warnings = ["short history for arima"]
    run.save()
    return run


def test_forecast_view_shows_diagnostics_chart_points_and_cards(client, w):
    run = _run(w)
    login(client, w.users[Role.EXECUTIVE])
    response = client.get(url("forecast", w.speaker))
    html = response.content.decode()
    assert response.context["run"] == run
    assert [r.predicted_qty for r in response.context["results"]] == [D("100.00"), D("110.00"), D("120.00")]
    assert 'id="forecast-chart"' in html
    assert "chart__band--band95" in html
    assert "Selected exp_smoothing with the lowest backtest score" in html
    assert "short history for arima" in html
    assert response.context["best"]["model_type"] == "exp_smoothing"
    # composite = MAPE + 0.25 x WAPE: ewma 6.5 beats exp_smoothing 5.0? no: 4 + 1 = 5.0 < 6.5
    assert response.context["recommendation"]["model_type"] == "exp_smoothing"
    assert response.context["runs_count"] == 1
    assert html.count('<tr data-period="') == 3
    assert "New consensus" not in html  # the executive does not create consensus


def test_forecast_view_without_a_run_offers_model_setup(client, w):
    login(client, w.planner)
    response = client.get(url("forecast", w.speaker))
    assert response.context["run"] is None
    assert "Generate one in Model setup" in response.content.decode()


def test_a_run_of_another_series_is_404(client, w):
    other = make_run(w.mower, as_of=w.as_of, predictions=[1, 2])
    login(client, w.planner)
    assert client.get(url("forecast", w.speaker, run=other.pk)).status_code == 404


def test_forecast_view_reads_a_fixed_number_of_queries(client, w):
    run = _run(w, predictions=[100] * 12)
    for i in range(4):
        services_create_consensus(w, run, add_months(w.as_of, i))
    login(client, w.planner)
    client.get(url("forecast", w.speaker))  # warm the permission caches
    with CaptureQueriesContext(connection) as few:
        client.get(url("forecast", w.speaker))
    for i in range(4, 12):
        services_create_consensus(w, run, add_months(w.as_of, i))
    with CaptureQueriesContext(connection) as many:
        client.get(url("forecast", w.speaker))
    assert len(many) == len(few)


def services_create_consensus(w, run, period, **extra):
    from forecasting.services import consensus_create

    return consensus_create(actor=w.planner, data={"forecast_run_audit_id": run.pk, "period": period, **extra})


def test_new_consensus_form_creates_the_row_with_frm28(client, w):
    run = _run(w)
    login(client, w.planner)
    page = client.get(url("forecast", w.speaker))
    assert "New consensus" in page.content.decode()
    form_url = f"{reverse('forecasting:consensus_create')}?run={run.pk}&period={w.as_of:%Y-%m}"
    form = client.get(form_url)
    assert form.status_code == 200
    assert form.context["form"].initial["baseline_qty"] == D("100.00")
    assert_csp_clean(form.content.decode(), "consensus form")
    quantities = {"baseline_qty": "100", "sales_override_qty": "10", "marketing_uplift_qty": "5",
                  "finance_adjustment_qty": "-3", "constraint_cap_qty": "110", "notes": "promo"}  # fmt: skip
    response = client.post(form_url, quantities)
    row = ForecastConsensus.objects.get(forecast_run=run, period=w.as_of)
    assert (row.pre_consensus_qty, row.final_consensus_qty, row.status) == (D("112.00"), D("110.00"), "draft")
    assert response["Location"] == url("forecast", w.speaker, run=run.pk, period=f"{w.as_of:%Y-%m}")
    snapshot = client.get(response["Location"])
    html = snapshot.content.decode()
    assert "baseline 100.00 + sales 10.00 + marketing 5.00 + finance -3.00 = pre 112.00" in html
    assert snapshot.context["snapshot_actions"] == ["edit", "propose", "delete"]
    assert_csp_clean(html, "forecast view with consensus")
    assert "Consensus for" in " ".join(messages_of(snapshot))


def test_consensus_edit_propose_approve_and_return_follow_the_roles(client, w):
    run = _run(w)
    row = services_create_consensus(w, run, w.as_of, sales_override_qty=D("5"))
    login(client, w.planner)
    response = client.post(reverse("forecasting:consensus_edit", args=[row.pk]),
                           {"baseline_qty": "100", "sales_override_qty": "20", "marketing_uplift_qty": "0",
                            "finance_adjustment_qty": "0", "expected_version": "1"})  # fmt: skip
    assert response.status_code == 302
    row = ForecastConsensus.objects.get(forecast_run=run, period=w.as_of, is_current=True)
    assert (row.version, row.final_consensus_qty) == (2, D("120.00"))
    client.post(reverse("forecasting:consensus_propose", args=[row.pk]))
    row.refresh_from_db()
    assert row.status == "proposed"
    # The proposer may not approve their own proposal, and the planner has no approve right at all.
    assert client.post(reverse("forecasting:consensus_approve", args=[row.pk])).status_code == 403
    executive = w.users[Role.EXECUTIVE]
    login(client, executive)
    snapshot = client.get(url("forecast", w.speaker))
    assert set(snapshot.context["snapshot_actions"]) == {"approve", "return"}
    # Return needs a comment: without one it is a message, and the row stays proposed.
    response = client.post(reverse("forecasting:consensus_return", args=[row.pk]), {"reason": ""})
    assert any("comment" in m for m in follow_messages(client, response))
    row.refresh_from_db()
    assert row.status == "proposed"
    response = client.post(reverse("forecasting:consensus_approve", args=[row.pk]), {"reason": "ok"})
    row.refresh_from_db()
    assert row.status == "approved"
    assert any("approved" in m for m in follow_messages(client, response))
    assert AuditEvent.objects.filter(event_type__startswith="forecasting.consensus.").count() >= 3


def test_editing_an_approved_consensus_is_refused(client, w):
    run = _run(w)
    row = services_create_consensus(w, run, w.as_of)
    login(client, w.users[Role.SOP_COORDINATOR])
    assert client.get(reverse("forecasting:consensus_edit", args=[row.pk])).status_code == 200
    from forecasting.services import consensus_approve, consensus_propose

    consensus_propose(actor=w.planner, consensus=row)
    consensus_approve(actor=w.users[Role.EXECUTIVE], consensus=row)
    assert client.get(reverse("forecasting:consensus_edit", args=[row.pk])).status_code == 403


# Manage results -------------------------------------------------------------------------------


def test_manage_results_lists_the_latest_run_per_model(client, w):
    make_run(w.speaker, as_of=w.as_of, predictions=[1, 2], model="ewma")
    newer = make_run(w.speaker, as_of=w.as_of, predictions=[3, 4, 5], model="ewma")
    es = make_run(w.speaker, as_of=w.as_of, predictions=[6], model="exp_smoothing")
    login(client, w.planner)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("results", w.speaker))
    groups = {g["run"].model_used: g for g in response.context["result_groups"]}
    assert {m: g["run"].pk for m, g in groups.items()} == {"ewma": newer.pk, "exp_smoothing": es.pk}
    ewma = groups["ewma"]
    assert (ewma["count"], ewma["first"], ewma["last"]) == (3, w.as_of, add_months(w.as_of, 2))
    assert len(response.context["runs"]) == 3
    assert len(queries) < 40


def test_promote_writes_demand_plan_versions_and_reports_skipped_periods(client, w):
    run = _run(w, predictions=[100, 110, 120])
    locked_period = add_months(w.as_of, 1)
    planning_services.demand_plan_create(actor=w.planner, product=w.speaker,
                                         data={"period": locked_period, "forecast_qty": D("5")})  # fmt: skip
    plan = DemandPlan.objects.get(product=w.speaker, period=locked_period, is_current=True)
    planning_services.demand_plan_submit(actor=w.planner, plan=plan)
    login(client, w.planner)
    form = {f"run{run.pk}-horizon": 3, f"run{run.pk}-set_consensus": "on", f"run{run.pk}-notes": "S&OP"}
    response = client.post(reverse("forecasting:promote", args=[run.pk]), form)
    shown = follow_messages(client, response)
    assert any("Promoted 2 demand plan quantities of SPK-1" in m for m in shown), shown
    skipped = [m for m in shown if m.startswith("Skipped periods")]
    assert len(skipped) == 1, shown
    assert f"{locked_period:%b %Y}" in skipped[0]
    first = DemandPlan.objects.get(product=w.speaker, period=w.as_of, is_current=True)
    assert (first.forecast_qty, first.consensus_qty) == (D("100.00"), D("100.00"))
    assert DemandPlan.objects.get(pk=plan.pk).forecast_qty == D("5")


def test_promote_with_a_bad_horizon_is_a_message(client, w):
    run = _run(w)
    login(client, w.planner)
    response = client.post(reverse("forecasting:promote", args=[run.pk]), {f"run{run.pk}-horizon": 0})
    assert any("Horizon" in m for m in follow_messages(client, response))


def test_discard_and_delete_all_for_product(client, w):
    ewma = make_run(w.speaker, as_of=w.as_of, predictions=[1, 2], model="ewma")
    es = make_run(w.speaker, as_of=w.as_of, predictions=[3], model="exp_smoothing")
    login(client, w.planner)
    response = client.post(reverse("forecasting:run_discard", args=[ewma.pk]))
    assert response["Location"] == url("results", w.speaker)
    assert Forecast.objects.filter(run=ewma, discarded_at__isnull=True).count() == 0
    assert Forecast.objects.filter(run=es, discarded_at__isnull=True).count() == 1
    groups = client.get(url("results", w.speaker)).context["result_groups"]
    assert [g["run"].pk for g in groups] == [es.pk]
    response = client.post(reverse("forecasting:results_delete_product", args=[w.speaker.pk]))
    assert any("Deleted 1 forecast results of SPK-1" in m for m in follow_messages(client, response))
    assert not Forecast.objects.filter(product=w.speaker, discarded_at__isnull=True).exists()


def test_a_detail_series_is_chosen_with_the_series_selector(client, w):
    write_actuals(w.speaker, seasonal(14, base=40), region="EU", channel="Retail")
    detail = make_run(w.speaker, as_of=w.as_of, predictions=[40, 41], region="EU", channel="Retail")
    make_run(w.speaker, as_of=w.as_of, predictions=[100, 110])
    login(client, w.planner)
    page = client.get(url("historical", w.speaker))
    assert ("EU", "Retail") in page.context["series_options"]
    response = client.get(url("forecast", w.speaker, series="EU|Retail"))
    assert (response.context["region"], response.context["channel"]) == ("EU", "Retail")
    assert response.context["run"] == detail
    # An unknown series falls back to the product total rather than failing.
    assert client.get(url("forecast", w.speaker, series="Mars|Moon")).context["region"] == "Global"


def test_stage_chips_follow_what_exists(client, w):
    login(client, w.planner)
    chips = {code: chip for code, _, _, chip in client.get(url("historical", w.speaker)).context["tab_urls"]}
    assert chips == {"historical": "active", "backtesting": "ready", "setup": "ready", "forecast": "locked",
                     "results": "locked"}  # fmt: skip
    make_run(w.speaker, as_of=w.as_of, predictions=[1])
    chips = {code: chip for code, _, _, chip in client.get(url("setup", w.speaker)).context["tab_urls"]}
    assert chips["forecast"] == "complete"
    assert chips["setup"] == "active"


def test_forecast_view_shows_drift_alerts_of_the_series(client, w):
    from forecasting.models import ForecastAccuracyPoint

    make_run(w.speaker, as_of=w.as_of, predictions=[100])
    points = []
    for i in range(12):
        qty = D("102") if i >= 6 else D("150")  # the last six months got much worse
        points.append(ForecastAccuracyPoint(
            product=w.speaker, period=add_months(last_closed_month(), -i), lag=1, layer="statistical",
            model_type="ewma", forecast_qty=qty, actual_qty=D("100"), error=qty - 100, abs_error=abs(qty - 100),
            computed_at=timezone.now(),
        ))  # fmt: skip
    ForecastAccuracyPoint.objects.bulk_create(points)
    login(client, w.planner)
    response = client.get(url("forecast", w.speaker))
    (alert,) = response.context["drift_alerts"]
    assert alert["model_type"] == "ewma"
    assert "Accuracy drift on ewma" in response.content.decode()


def test_history_chart_draws_corrected_values_of_corrected_anomalies(client, w):
    spike = add_months(last_closed_month(), -2)
    DemandPlan.objects.filter(product=w.speaker, period=spike).update(actual_qty=D("800"))
    ForecastAnomaly.objects.create(product=w.speaker, period=spike, value=D("800"), expected=D("120"),
                                   direction="spike", severity="high", status="corrected", corrected_value=D("125"),
                                   detected_at=timezone.now())  # fmt: skip
    login(client, w.planner)
    response = client.get(url("historical", w.speaker))
    row = next(r for r in response.context["history_rows"] if r["period"] == spike)
    assert (row["raw"], row["value"]) == (800.0, 125.0)
    assert "chart__line--corrected" in response.content.decode()
    assert "corrected_history" in response.context["flags"]

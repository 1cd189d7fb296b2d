"""FRM-36 by hand: variance, trend, adverse deviation, status and achievement for the four directions."""

from decimal import Decimal as D

import pytest

from planning.kpi_maths import achievement_colour, achievement_pct, adverse_pct, kpi_evaluate, status_of, trend_of


def _def(direction, target=None, low=None, high=None, warning=10, critical=20):
    return {"direction": direction, "target": target, "target_low": low, "target_high": high,
            "warning_threshold_pct": warning, "critical_threshold_pct": critical}  # fmt: skip


def test_higher_is_better_below_target():
    # value 80 vs target 85: variance -5; -5/85*100 = -5.8824 %; adverse 5.8824 % (≤ 10: on target);
    # achievement 80/85*100 = 94.1176; previous 70 → +10 (14 % of 70) up: improving.
    r = kpi_evaluate(definition_like=_def("higher_is_better", 85), value=80, previous=70)
    assert r == {"variance": D("-5.0000"), "variance_pct": D("-5.8824"), "trend": "improving",
                 "status": "on_target", "adverse_pct": D("5.8824"), "achievement_pct": D("94.1176")}  # fmt: skip


def test_higher_is_better_thresholds_warning_and_critical():
    # 76 vs 85: adverse (85-76)/85 = 10.5882 % > 10 → warning; 67: 21.1765 % > 20 → critical.
    assert kpi_evaluate(definition_like=_def("higher_is_better", 85), value=76, previous=None)["status"] == "warning"
    assert kpi_evaluate(definition_like=_def("higher_is_better", 85), value=67, previous=None)["status"] == "critical"
    # exactly 10 % adverse is not above the threshold: 90 vs 100 → on target; 80 → 20 % → warning (not critical).
    assert kpi_evaluate(definition_like=_def("higher_is_better", 100), value=90, previous=None)["status"] == "on_target"
    assert kpi_evaluate(definition_like=_def("higher_is_better", 100), value=80, previous=None)["status"] == "warning"
    # above target: no adverse deviation, achievement over 100 (110/100).
    r = kpi_evaluate(definition_like=_def("higher_is_better", 100), value=110, previous=None)
    assert (r["status"], r["adverse_pct"], r["achievement_pct"], r["variance_pct"]) == (
        "on_target",
        D("0.0000"),
        D("110.0000"),
        D("10.0000"),
    )


def test_lower_is_better():
    # MAPE 18 vs target 15: variance 3, 3/15 = 20 % → warning (not above 20); achievement 15/18 = 83.3333;
    # previous 20 → -2 (10 % of 20) down: improving.
    r = kpi_evaluate(definition_like=_def("lower_is_better", 15), value=18, previous=20)
    assert r == {"variance": D("3.0000"), "variance_pct": D("20.0000"), "trend": "improving", "status": "warning",
                 "adverse_pct": D("20.0000"), "achievement_pct": D("83.3333")}  # fmt: skip
    # 19 vs 15: 26.6667 % → critical; rising from 18 → declining.
    r = kpi_evaluate(definition_like=_def("lower_is_better", 15), value=19, previous=18)
    assert (r["status"], r["trend"]) == ("critical", "declining")
    # a value of 0 achieves 100 %.
    assert achievement_pct(direction="lower_is_better", value=0, target=5) == D("100.0000")


def test_closest_to_zero_uses_the_target_as_tolerance():
    # bias -6 with tolerance 5: adverse (6-5)/5 = 20 % → warning; variance -6-5 = -11, -220 %;
    # achievement 100-20 = 80; previous -8: |-6| < |-8| → improving.
    r = kpi_evaluate(definition_like=_def("closest_to_zero", 5), value=-6, previous=-8)
    assert r == {"variance": D("-11.0000"), "variance_pct": D("-220.0000"), "trend": "improving",
                 "status": "warning", "adverse_pct": D("20.0000"), "achievement_pct": D("80.0000")}  # fmt: skip
    # inside the tolerance: on target, achievement 100; 4 → -4.5 moves away from zero → declining.
    r = kpi_evaluate(definition_like=_def("closest_to_zero", 5), value=D("-4.5"), previous=4)
    assert (r["status"], r["achievement_pct"], r["trend"]) == ("on_target", D("100.0000"), "declining")
    # far outside: 12 → (12-5)/5 = 140 % → critical, achievement floored at 0.
    r = kpi_evaluate(definition_like=_def("closest_to_zero", 5), value=12, previous=None)
    assert (r["status"], r["achievement_pct"]) == ("critical", D("0.0000"))


def test_target_range():
    # days of supply 15-30. 36: 6 above the high bound; 6/30 = 20 % → warning; achievement 80; previous 40
    # was 10 outside, now 6: improving.
    d = _def("target_range", low=15, high=30)
    r = kpi_evaluate(definition_like=d, value=36, previous=40)
    assert r == {"variance": D("6.0000"), "variance_pct": D("20.0000"), "trend": "improving", "status": "warning",
                 "adverse_pct": D("20.0000"), "achievement_pct": D("80.0000")}  # fmt: skip
    # 12: 3 below the low bound → variance -3, -3/15 = -20 %; previous 14 (1 outside) → declining.
    r = kpi_evaluate(definition_like=d, value=12, previous=14)
    assert (r["variance"], r["variance_pct"], r["trend"], r["status"]) == (D("-3.0000"), D("-20.0000"),
                                                                          "declining", "warning")  # fmt: skip
    # inside: variance 0, on target, 100 %; both inside the range: stable even though the value moved 25 %.
    r = kpi_evaluate(definition_like=d, value=25, previous=20)
    assert (r["variance"], r["variance_pct"], r["status"], r["achievement_pct"], r["trend"]) == (
        D("0"),
        D("0"),
        "on_target",
        D("100.0000"),
        "stable",
    )
    # 10: 5 below 15 → 33.3333 % → critical.
    assert kpi_evaluate(definition_like=d, value=10, previous=None)["status"] == "critical"


def test_trend_stable_cases():
    # no previous, previous 0, and a change under 1 % of the previous value are stable.
    assert trend_of(direction="higher_is_better", value=5, previous=None) == "stable"
    assert trend_of(direction="higher_is_better", value=5, previous=0) == "stable"
    assert trend_of(direction="higher_is_better", value=D("100.9"), previous=100) == "stable"  # 0.9 %
    assert trend_of(direction="higher_is_better", value=101, previous=100) == "improving"  # exactly 1 %
    assert trend_of(direction="lower_is_better", value=101, previous=100) == "declining"


def test_no_target_and_custom_thresholds():
    r = kpi_evaluate(definition_like=_def("higher_is_better"), value=50, previous=40)
    assert (r["status"], r["variance"], r["variance_pct"], r["achievement_pct"]) == ("no_target", None, None, None)
    # a manual target overrides the definition's; thresholds 5/8: 94 vs 100 → 6 % → warning; 91 → 9 % → critical.
    d = _def("higher_is_better", 50, warning=5, critical=8)
    assert kpi_evaluate(definition_like=d, value=94, previous=None, target=100)["status"] == "warning"
    assert kpi_evaluate(definition_like=d, value=91, previous=None, target=100)["status"] == "critical"
    assert status_of(None) == "no_target"


def test_zero_target_reads_the_deviation_in_units():
    # FVA target 0 pp: variance_pct undefined; -0.05 pp → 5 % of one unit → on target; -0.5 → 50 % → critical.
    d = _def("higher_is_better", 0)
    r = kpi_evaluate(definition_like=d, value=D("-0.05"), previous=None)
    assert (r["variance"], r["variance_pct"], r["status"], r["achievement_pct"]) == (D("-0.0500"), None,
                                                                                    "on_target", None)  # fmt: skip
    assert kpi_evaluate(definition_like=d, value=D("-0.5"), previous=None)["status"] == "critical"
    assert adverse_pct(direction="higher_is_better", value=3, target=0) == D("0.0000")


@pytest.mark.parametrize(("value", "colour"), [(100, "green"), (D("99.99"), "amber"), (80, "amber"),
                                               (D("79.9"), "red"), (None, None)])  # fmt: skip
def test_achievement_bar_colour(value, colour):
    assert achievement_colour(value) == colour

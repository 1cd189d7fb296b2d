"""Geometry of the server-rendered charts (planning.charts), checked against hand-computed numbers.

The default frame is 720 x 300 with margins left 64, right 24, top 16, bottom 40: the plot runs
from x 64 to 696 and from y 260 (zero of the axis) up to y 16.
"""

from datetime import date
from decimal import Decimal

import pytest

from planning import charts

JAN, FEB, MAR, APR = (date(2026, m, 1) for m in (1, 2, 3, 4))


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [
        (0, 95, [0, 20, 40, 60, 80, 100]),  # raw step 19 -> 20
        (0, 210, [0, 50, 100, 150, 200, 250]),  # raw 42 -> 50
        (0, 12, [0, 2.5, 5, 7.5, 10, 12.5]),  # raw 2.4 -> 2.5
        (5, 7, [0, 2, 4, 6, 8]),  # zero is always on the axis; raw 1.4 -> 2
        (-33.33, 20, [-40, -20, 0, 20]),  # raw 10.67 -> 20, from floor(-1.67) to ceil(1)
        (0, 0, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),  # an empty range still gets an axis
        (0, 1_000_000, [0, 200_000, 400_000, 600_000, 800_000, 1_000_000]),
    ],
)
def test_nice_ticks_cover_the_range_with_round_steps(low, high, ticks):
    assert charts.nice_ticks(low, high) == ticks


def test_tick_labels_are_short():
    assert [charts.tick_label(v) for v in (0, 2.5, 1200, 25_000, 1_500_000)] == ["0", "2.5", "1,200", "25k", "1.5M"]
    assert charts.tick_label(-20, "%") == "-20%"


def test_a_scale_maps_the_domain_linearly_and_flips_for_y():
    y = charts.Scale(0, 100, 260, 16)
    assert (y(0), y(50), y(100), y(Decimal("25"))) == (260.0, 138.0, 16.0, 199.0)  # 260 - 0.25 x 244 = 199
    assert charts.Scale(5, 5, 0, 100)(5) == 50.0  # a flat domain sits in the middle


def test_month_range_spans_years():
    assert charts.month_range(date(2025, 11, 1), date(2026, 2, 1)) == [
        date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]  # fmt: skip


def test_line_chart_points_gaps_and_current_month_marker():
    # Four months: x step (696 - 64) / 3 = 210.67 -> x 64.0, 274.7, 485.3, 696.0.
    # Values up to 100 -> ticks 0..100 by 20; y(v) = 260 - v / 100 x 244.
    series = [
        {"key": "forecast", "label": "Forecast", "values": {JAN: 100, FEB: 80, MAR: 60, APR: 100}},
        {"key": "actual", "label": "Actual", "values": {JAN: Decimal("90"), FEB: 50, MAR: None, APR: 70}},
    ]
    chart = charts.line_chart([JAN, FEB, MAR, APR], series, current=MAR)
    assert [(t["value"], t["y"], t["label"]) for t in chart.y_ticks] == [
        (0, 260.0, "0"), (20, 211.2, "20"), (40, 162.4, "40"), (60, 113.6, "60"), (80, 64.8, "80"),
        (100, 16.0, "100")]  # fmt: skip
    assert [(x["x"], x["label"]) for x in chart.x_labels] == [
        (64.0, "Jan 26"), (274.7, "Feb"), (485.3, "Mar"), (696.0, "Apr")]  # fmt: skip
    forecast, actual = chart.series
    assert forecast["segments"] == ["64.0,16.0 274.7,64.8 485.3,113.6 696.0,16.0"]
    # 90 -> 260 - 219.6 = 40.4; 50 -> 138.0; March is missing, so April (70 -> 89.2) stands alone as a dot.
    assert actual["segments"] == ["64.0,40.4 274.7,138.0"]
    assert [(p["x"], p["y"]) for p in actual["points"]] == [(64.0, 40.4), (274.7, 138.0), (696.0, 89.2)]
    assert (chart.marker["x"], chart.marker["y0"], chart.marker["y1"]) == (485.3, 260, 16)
    # Right of the middle (380), so the label reads leftwards from the line.
    assert (chart.marker["label_x"], chart.marker["anchor"]) == (481.3, "end")
    early = charts.line_chart([JAN, FEB, MAR, APR], series, current=FEB).marker
    assert (early["x"], early["label_x"], early["anchor"]) == (274.7, 278.7, "start")
    assert chart.baseline == 260.0


def test_line_chart_has_no_marker_off_the_axis_and_nothing_without_months():
    chart = charts.line_chart([JAN, FEB], [{"key": "forecast", "label": "F", "values": {JAN: 1}}], current=APR)
    assert chart.marker is None
    assert charts.line_chart([], [], current=APR).series == []


def test_x_labels_are_thinned_to_about_twelve():
    months = charts.month_range(date(2024, 5, 1), APR)  # 24 months -> every second month
    chart = charts.line_chart(months, [{"key": "forecast", "label": "F", "values": {}}])
    assert [x["label"] for x in chart.x_labels] == [
        "May 24", "Jul", "Sep", "Nov", "Jan 25", "Mar", "May", "Jul", "Sep", "Nov", "Jan 26", "Mar"]  # fmt: skip


def test_bar_line_chart_groups_bars_and_puts_the_percentage_on_the_right_axis():
    # Frame right margin 64: plot x 64..656, two months -> slots of 296, centres 212 and 508; the
    # group takes 70 % (207.2), so each of the two bars is 103.6 wide, the first starting 103.6 left
    # of the centre. Quantities up to 200 -> ticks 0..200 by 50, y(v) = 260 - v / 200 x 244.
    bars = [{"key": "demand", "label": "Demand", "values": {MAR: Decimal("200"), APR: Decimal("100")}},
            {"key": "supply", "label": "Supply", "values": {MAR: Decimal("170"), APR: Decimal("130")}}]  # fmt: skip
    line = {"key": "coverage", "label": "Coverage gap %", "values": {MAR: Decimal("-15"), APR: Decimal("30")}}
    chart = charts.bar_line_chart([MAR, APR], bars, line)
    assert [t["value"] for t in chart.y_ticks] == [0, 50, 100, 150, 200]
    assert [(b["key"], b["month"], b["x"], b["y"], b["width"], b["height"]) for b in chart.bars] == [
        ("demand", MAR, 108.4, 16.0, 103.6, 244.0),
        ("supply", MAR, 212.0, 52.6, 103.6, 207.4),  # 170 -> 260 - 207.4
        ("demand", APR, 404.4, 138.0, 103.6, 122.0),
        ("supply", APR, 508.0, 101.4, 103.6, 158.6),  # 130 -> 260 - 158.6
    ]  # fmt: skip
    # Percent axis -15..30: raw step 9 -> 10, ticks -20..30; y(p) = 260 - (p + 20) / 50 x 244.
    assert [(t["label"], t["y"], t["x"]) for t in chart.right_ticks] == [
        ("-20%", 260.0, 664), ("-10%", 211.2, 664), ("0%", 162.4, 664), ("10%", 113.6, 664), ("20%", 64.8, 664),
        ("30%", 16.0, 664)]  # fmt: skip
    (coverage,) = chart.series
    assert coverage["segments"] == ["212.0,235.6 508.0,16.0"]  # -15 -> 260 - 24.4


def test_bars_below_zero_hang_from_the_baseline():
    bars = [{"key": "demand", "label": "D", "values": {MAR: -50, APR: 100}}]
    chart = charts.bar_line_chart([MAR, APR], bars, {"key": "coverage", "label": "C", "values": {}})
    # Ticks -50..100 by 50 (raw 30 -> 50); zero at 260 - 50 / 150 x 244 = 178.7.
    assert chart.baseline == 178.7
    negative = chart.bars[0]
    assert (negative["y"], negative["height"]) == (178.7, 81.3)

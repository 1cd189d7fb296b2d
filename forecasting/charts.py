"""Geometry of the forecasting console's SVG charts (UI-09): history with anomaly markers, the
forecast curve with its 80/95 % bands, backtest actual-vs-predicted, WAPE trend and the FVA steps.

Built on planning.charts: lines come from `line_chart`, and the bands are two extra series whose
points are folded into one polygon, so the y axis always covers the whole band. Colours are CSS
classes (the CSP allows no style attributes); every chart has a data table on its page.
"""

import datetime
from dataclasses import dataclass, field

from forecasting.series import add_months
from planning.charts import Chart, Frame, Scale, line_chart, month_range, nice_ticks, tick_label

__all__ = ["bar_steps_chart", "forecast_chart", "history_chart", "line_chart", "month_range"]


def _polygon(upper: dict, lower: dict) -> str:
    """The band between two series of the same months: upper left to right, lower back."""
    up = upper["points"]
    down = list(reversed(lower["points"]))
    if len(up) < 2 or len(down) < 2:
        return ""
    return " ".join(f"{p['x']},{p['y']}" for p in [*up, *down])


def forecast_chart(*, history: dict, predicted: dict, bands: dict[int, tuple[dict, dict]],
                   consensus: dict | None = None, frame: Frame | None = None) -> Chart:  # fmt: skip
    """History (actuals), prediction, consensus lines and one shaded band per level.

    Every mapping is {month: qty}; `bands` maps a level (80, 95) to its (lower, upper) mappings.
    The prediction line starts at the last history month so the curve reads as one line.
    """
    months_set = set(history) | set(predicted) | {m for pair in bands.values() for side in pair for m in side}
    if consensus:
        months_set |= set(consensus)
    if not months_set:
        return Chart(frame=frame or Frame())
    months = month_range(min(months_set), max(months_set))
    series = [{"key": "actual", "label": "History", "values": history}]
    pred = dict(predicted)
    if history and predicted:
        last = max(history)
        if last < min(predicted):
            pred[last] = history[last]
    series.append({"key": "forecast", "label": "Prediction", "values": pred})
    if consensus:
        series.append({"key": "consensus", "label": "Consensus", "values": consensus})
    for level, (lower, upper) in sorted(bands.items()):
        series.append({"key": f"lower{level}", "label": f"Lower {level}%", "values": lower})
        series.append({"key": f"upper{level}", "label": f"Upper {level}%", "values": upper})
    chart = line_chart(months, series, frame=frame)
    by_key = {s["key"]: s for s in chart.series}
    chart.bands = []
    # The wider band first, so the narrower one is drawn on top of it.
    for level in sorted(bands, reverse=True):
        points = _polygon(by_key[f"upper{level}"], by_key[f"lower{level}"])
        if points:
            chart.bands.append({"key": f"band{level}", "label": f"{level}% interval", "points": points})
    chart.series = [s for s in chart.series if not s["key"].startswith(("lower", "upper"))]
    return chart


def history_chart(*, raw: dict, corrected: dict | None = None, anomalies: dict | None = None,
                  frame: Frame | None = None) -> Chart:  # fmt: skip
    """Raw actuals, the corrected values where they differ, and a marker on every anomaly month."""
    months_set = set(raw) | set(corrected or {})
    if not months_set:
        return Chart(frame=frame or Frame())
    months = month_range(min(months_set), max(months_set))
    series = [{"key": "actual", "label": "Raw actuals", "values": raw}]
    if corrected:
        series.append({"key": "corrected", "label": "Corrected", "values": corrected})
    series.append({"key": "anomaly", "label": "Anomaly", "values": {m: raw[m] for m in anomalies or {} if m in raw}})
    chart = line_chart(months, series, frame=frame)
    marks = next(s for s in chart.series if s["key"] == "anomaly")
    chart.series = [s for s in chart.series if s["key"] != "anomaly"]
    chart.anomalies = [
        {**p, "severity": (anomalies or {}).get(p["month"], "medium"), "points": _diamond(p["x"], p["y"])}
        for p in marks["points"]
    ]
    return chart


def _diamond(x: float, y: float, r: float = 6) -> str:
    return f"{x},{round(y - r, 1)} {round(x + r, 1)},{y} {x},{round(y + r, 1)} {round(x - r, 1)},{y}"


@dataclass
class StepChart:
    frame: Frame
    y_ticks: list[dict] = field(default_factory=list)
    bars: list[dict] = field(default_factory=list)
    step_points: str = ""
    baseline: float = 0.0


def bar_steps_chart(items: list[dict], *, suffix: str = "%", frame: Frame | None = None) -> StepChart:
    """One bar per item ({"key", "label", "value"}) in order, joined by a stair-step line: the FVA
    chart (naive → statistical → consensus), where each step shows what a layer added."""
    frame = frame or Frame(height=260)
    chart = StepChart(frame=frame)
    present = [float(i["value"]) for i in items if i["value"] is not None]
    if not present:
        return chart
    ticks = nice_ticks(min(present), max(present))
    y = Scale(ticks[0], ticks[-1], frame.y0, frame.y1)
    chart.y_ticks = [{"value": t, "y": y(t), "label": tick_label(t, suffix)} for t in ticks]
    chart.baseline = y(0)
    slot = (frame.x1 - frame.x0) / len(items)
    width = round(slot * 0.5, 1)
    points, previous_y = [], None
    for i, item in enumerate(items):
        centre = round(frame.x0 + slot * (i + 0.5), 1)
        value = None if item["value"] is None else float(item["value"])
        left, right = round(centre - width / 2, 1), round(centre + width / 2, 1)
        bar = {**item, "x": left, "width": width, "centre": centre, "label_y": frame.y0 + 18, "y": chart.baseline,
               "height": 0, "value_y": round(chart.baseline - 6, 1), "value_label": "—"}  # fmt: skip
        if value is not None:
            top, bottom = sorted((y(value), y(0)))
            bar.update(y=top, height=round(bottom - top, 1), value_y=round(top - 6, 1),
                       value_label=tick_label(round(value, 1), suffix))  # fmt: skip
            if previous_y is not None:
                points.append(f"{left},{previous_y}")
            points += [f"{left},{y(value)}", f"{right},{y(value)}"]
            previous_y = y(value)
        chart.bars.append(bar)
    chart.step_points = " ".join(points) if len(points) > 2 else ""
    return chart


def months_back(last: datetime.date, count: int) -> list[datetime.date]:
    """`count` consecutive months ending with `last`."""
    return month_range(add_months(last, 1 - count), last)

"""Geometry of the console's server-rendered SVG charts (UI-04 history, UI-05 gap chart).

Pure functions from numbers to coordinates: the templates only place the shapes, and colours come
from CSS classes, because the CSP allows neither inline style attributes nor inline scripts.
Every chart also has a data table on its page, which is the accessible alternative.
"""

import datetime
import math
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "Frame",
    "Scale",
    "bar_line_chart",
    "kpi_band_chart",
    "line_chart",
    "month_range",
    "nice_ticks",
    "share_bar",
    "sparkline",
]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] with a step of 1, 2, 2.5 or 5 x 10^k, about `count`
    intervals. Zero is always inside the range, so bars and quantities start from a real baseline."""
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    if high == low:
        high = low + 1
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    n = round((last - first) / step)
    return [_clean(first + i * step) for i in range(n + 1)]


def _clean(value: float) -> float:
    # 0.1 + 0.2 style noise would show in the labels; the ticks are at most 4 significant decimals.
    value = round(value, 6)
    return 0.0 if value == 0 else value


def tick_label(value: float, suffix: str = "") -> str:
    if abs(value) >= 1_000_000:
        text = f"{value / 1_000_000:,.1f}".removesuffix(".0") + "M"
    elif abs(value) >= 10_000:
        text = f"{value / 1000:,.1f}".removesuffix(".0") + "k"
    elif value == int(value):
        text = f"{int(value):,}"
    else:
        text = f"{value:,.1f}"
    return text + suffix


@dataclass(frozen=True)
class Scale:
    """Linear map of the domain [d0, d1] onto the range [r0, r1] (r1 < r0 for a y axis)."""

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, value) -> float:
        if self.d1 == self.d0:
            return round((self.r0 + self.r1) / 2, 1)
        return round(self.r0 + (float(value) - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0), 1)


@dataclass(frozen=True)
class Frame:
    """The SVG viewport and the plot area inside its margins."""

    width: int = 720
    height: int = 300
    left: int = 64
    right: int = 24
    top: int = 16
    bottom: int = 40

    @property
    def x0(self) -> int:
        return self.left

    @property
    def x1(self) -> int:
        return self.width - self.right

    @property
    def y0(self) -> int:
        return self.height - self.bottom

    @property
    def y1(self) -> int:
        return self.top


def month_range(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """Every first-of-month from `first` to `last`, inclusive."""
    months, current = [], first.replace(day=1)
    while current <= last:
        months.append(current)
        current = (current + datetime.timedelta(days=32)).replace(day=1)
    return months


@dataclass
class Chart:
    frame: Frame
    y_ticks: list[dict] = field(default_factory=list)
    x_labels: list[dict] = field(default_factory=list)
    series: list[dict] = field(default_factory=list)
    bars: list[dict] = field(default_factory=list)
    right_ticks: list[dict] = field(default_factory=list)
    marker: dict | None = None
    baseline: float | None = None


def _number(value) -> float | None:
    return None if value is None else float(Decimal(value))


def _y_axis(frame: Frame, values, suffix: str = "", x: float | None = None) -> tuple[Scale, list[dict]]:
    present = [v for v in values if v is not None] or [0.0]
    ticks = nice_ticks(min(present), max(present))
    scale = Scale(ticks[0], ticks[-1], frame.y0, frame.y1)
    return scale, [{"value": t, "y": scale(t), "label": tick_label(t, suffix)} for t in ticks]


def _x_labels(frame: Frame, months: list, centres: list[float]) -> list[dict]:
    # At most about twelve labels; the year is shown on the first label and on every January.
    every = max(1, math.ceil(len(months) / 12))
    labels = []
    for i, (month, x) in enumerate(zip(months, centres, strict=True)):
        if i % every:
            continue
        text = month.strftime("%b %y") if i == 0 or month.month == 1 else month.strftime("%b")
        labels.append({"x": x, "y": frame.y0 + 18, "label": text})
    return labels


def _segments(points: list[dict]) -> list[str]:
    """Polyline `points` attributes, one per run of consecutive months with a value: a missing
    month breaks the line rather than drawing a slope through it."""
    runs, run = [], []
    for point in points:
        if point is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(point)
    if run:
        runs.append(run)
    return [" ".join(f"{p['x']},{p['y']}" for p in r) for r in runs if len(r) > 1]


def line_chart(months: list[datetime.date], series: list[dict], *, current: datetime.date | None = None,
               frame: Frame | None = None) -> Chart:  # fmt: skip
    """Lines over consecutive `months`. Each series is {"key", "label", "values": {month: qty}};
    months without a value leave a gap. `current` places the vertical marker when it is on the axis."""
    frame = frame or Frame()
    chart = Chart(frame=frame)
    if not months:
        return chart
    step = (frame.x1 - frame.x0) / max(len(months) - 1, 1)
    xs = [round(frame.x0 + i * step, 1) if len(months) > 1 else round((frame.x0 + frame.x1) / 2, 1)
          for i in range(len(months))]  # fmt: skip
    all_values = [_number(v) for s in series for v in s["values"].values()]
    y, chart.y_ticks = _y_axis(frame, all_values)
    chart.baseline = y(0)
    chart.x_labels = _x_labels(frame, months, xs)
    for s in series:
        points = []
        for month, x in zip(months, xs, strict=True):
            value = _number(s["values"].get(month))
            points.append(None if value is None else {"x": x, "y": y(value), "month": month, "value": value})
        chart.series.append({
            "key": s["key"], "label": s["label"], "segments": _segments(points),
            "points": [p for p in points if p is not None],
        })  # fmt: skip
    if current is not None and current in months:
        x = xs[months.index(current)]
        # The label sits on the side with room, so it is never clipped at the right edge.
        right = x > (frame.x0 + frame.x1) / 2
        chart.marker = {"x": x, "y0": frame.y0, "y1": frame.y1, "label_x": round(x - 4 if right else x + 4, 1),
                        "label_y": frame.y1 + 10, "anchor": "end" if right else "start"}  # fmt: skip
    return chart


def bar_line_chart(months: list[datetime.date], bars: list[dict], line: dict, *, frame: Frame | None = None) -> Chart:
    """Grouped bars per month (each bar series {"key", "label", "values": {month: qty}}) on the left
    axis, and `line` ({"key", "label", "values": {month: pct}}) on a right axis in percent."""
    frame = frame or Frame(right=64)
    chart = Chart(frame=frame)
    if not months:
        return chart
    slot = (frame.x1 - frame.x0) / len(months)
    group = slot * 0.7
    width = round(group / max(len(bars), 1), 1)
    centres = [round(frame.x0 + slot * (i + 0.5), 1) for i in range(len(months))]
    y, chart.y_ticks = _y_axis(frame, [_number(v) for b in bars for v in b["values"].values()])
    chart.baseline = y(0)
    chart.x_labels = _x_labels(frame, months, centres)
    for i, (month, centre) in enumerate(zip(months, centres, strict=True)):
        left = centre - group / 2
        for j, b in enumerate(bars):
            value = _number(b["values"].get(month))
            if value is None:
                continue
            top, bottom = sorted((y(value), y(0)))
            chart.bars.append({
                "key": b["key"], "label": b["label"], "month": month, "value": value, "index": i,
                "x": round(left + j * width, 1), "y": top, "width": width, "height": round(bottom - top, 1),
            })  # fmt: skip
    pct_values = [_number(v) for v in line["values"].values()]
    pct, ticks = _y_axis(frame, pct_values, suffix="%")
    chart.right_ticks = [{**t, "x": frame.x1 + 8} for t in ticks]
    points = [None if (v := _number(line["values"].get(m))) is None else {"x": c, "y": pct(v), "month": m, "value": v}
              for m, c in zip(months, centres, strict=True)]  # fmt: skip
    chart.series.append({"key": line["key"], "label": line["label"], "segments": _segments(points),
                         "points": [p for p in points if p is not None]})  # fmt: skip
    return chart


def sparkline(values: list, *, width: int = 120, height: int = 32, pad: int = 3) -> dict:
    """A small trend line (UI-03 KPI strip): `{"points", "last": {"x", "y"}, "width", "height"}`, with
    None for fewer than two values. The y range is the values' own, so small moves stay visible."""
    numbers = [_number(v) for v in values if v is not None]
    if len(numbers) < 2:
        return {"points": "", "last": None, "width": width, "height": height}
    low, high = min(numbers), max(numbers)
    x = Scale(0, len(numbers) - 1, pad, width - pad)
    y = Scale(low, high, height - pad, pad)
    coords = [(x(i), y(v)) for i, v in enumerate(numbers)]
    return {"points": " ".join(f"{cx},{cy}" for cx, cy in coords), "last": {"x": coords[-1][0], "y": coords[-1][1]},
            "width": width, "height": height}  # fmt: skip


def share_bar(parts: list[dict], *, width: int = 240, height: int = 12) -> dict:
    """One horizontal bar split by share (status distributions): each part {"key", "label", "value"} gets
    `x`, `width` and `pct` (1 dp); parts of 0 are left out. An empty total gives no segments."""
    total = sum(float(p["value"] or 0) for p in parts)
    segments, x = [], 0.0
    for part in parts:
        value = float(part["value"] or 0)
        if not total or not value:
            continue
        w = value / total * width
        segments.append({**part, "x": round(x, 1), "width": round(w, 1), "pct": round(value / total * 100, 1)})
        x += w
    return {"segments": segments, "width": width, "height": height, "total": total}


# Production scheduling (UI-06) --------------------------------------------------------------------


def capacity_bar_chart(groups: list[dict], *, capacity_share, frame: Frame | None = None) -> Chart:
    """One bar per schedule group ({"label", "value"}) on a quantity axis, and a horizontal reference
    line at `capacity_share` (None: no line). A bar above the line marks a group planned beyond its share."""
    frame = frame or Frame(height=260)
    chart = Chart(frame=frame)
    if not groups:
        return chart
    values = [_number(g["value"]) for g in groups]
    share = _number(capacity_share)
    y, chart.y_ticks = _y_axis(frame, [*values, share])
    chart.baseline = y(0)
    slot = (frame.x1 - frame.x0) / len(groups)
    width = round(min(slot * 0.6, 80), 1)
    every = max(1, math.ceil(len(groups) / 12))  # about twelve axis labels at most; the table has them all
    for i, (group, value) in enumerate(zip(groups, values, strict=True)):
        centre = round(frame.x0 + slot * (i + 0.5), 1)
        top, bottom = sorted((y(value), y(0)))
        over = share is not None and value > share
        chart.bars.append({"key": "over" if over else "planned", "label": group["label"], "value": value, "index": i,
                           "x": round(centre - width / 2, 1), "y": top, "width": width,
                           "height": round(bottom - top, 1)})  # fmt: skip
        if i % every == 0:
            chart.x_labels.append({"x": centre, "y": frame.y0 + 18, "label": group["short"]})
    if share is not None:
        chart.marker = {"y": y(share), "x0": frame.x0, "x1": frame.x1, "value": share}
    return chart


def timeline_chart(rows: list[str], slots: list[dict], *, zone, row_height: int = 36,
                   width: int = 720, left: int = 130) -> dict:  # fmt: skip
    """A Gantt-style timeline: one lane per entry of `rows` (e.g. "WC-1 · Line-1") and one bar per slot
    ({"row", "start", "end", "label", "status", "title"}; aware datetimes) across the time they span.
    Day boundaries in `zone` (the planning time zone) are the vertical grid; at most about ten are labelled."""
    top, bottom, right = 8, 34, 16
    height = top + bottom + row_height * max(len(rows), 1)
    out = {"width": width, "height": height, "x0": left, "x1": width - right, "y0": top, "y1": height - bottom,
           "lane_width": width - right - left, "lanes": [], "bars": [], "ticks": []}  # fmt: skip
    if not slots:
        return out
    first = min(s["start"] for s in slots).astimezone(zone)
    last = max(s["end"] for s in slots).astimezone(zone)
    day = first.replace(hour=0, minute=0, second=0, microsecond=0)
    end_day = last.replace(hour=0, minute=0, second=0, microsecond=0)
    if end_day < last:
        end_day += datetime.timedelta(days=1)  # wall-clock arithmetic in the zone: midnight to midnight
    t0, t1 = day.timestamp(), end_day.timestamp()
    x = Scale(t0, t1, left, width - right)
    days = []
    while day <= end_day:
        days.append(day)
        day += datetime.timedelta(days=1)
    every = max(1, math.ceil((len(days) - 1) / 10))
    for i, d in enumerate(days):
        out["ticks"].append({"x": x(d.timestamp()), "label": f"{d:%b} {d.day}" if i % every == 0 else ""})
    index = {name: i for i, name in enumerate(rows)}
    for i, name in enumerate(rows):
        out["lanes"].append({"label": name, "y": top + i * row_height, "mid": top + i * row_height + row_height / 2,
                             "height": row_height})  # fmt: skip
    for s in slots:
        lane = index[s["row"]]
        x_start, x_end = x(s["start"].timestamp()), x(s["end"].timestamp())
        out["bars"].append({**s, "x": x_start, "width": max(round(x_end - x_start, 1), 2),
                            "y": top + lane * row_height + 6, "height": row_height - 12,
                            "text_x": round((x_start + x_end) / 2, 1),
                            "text_y": top + lane * row_height + row_height / 2})  # fmt: skip
    return out


def kpi_band_chart(months: list[datetime.date], values: dict, targets: dict, *, low=None, high=None,
                   frame: Frame | None = None) -> Chart:  # fmt: skip
    """UI-13 detail: a KPI's values over `months` against its target (a line, as targets may change from
    month to month) or its target range (a shaded band from `low` to `high`). `values` and `targets`
    map months to numbers; missing months leave gaps."""
    band = [_number(low), _number(high)] if low is not None and high is not None else []
    chart = line_chart(months, [{"key": "kpi", "label": "Value", "values": values},
                                {"key": "target", "label": "Target", "values": targets}], frame=frame)  # fmt: skip
    if not months:
        return chart
    if band:
        # The y axis must hold the band too: rebuild it over values, targets and both bounds.
        every = [_number(v) for v in [*values.values(), *targets.values()] if v is not None] + band
        y, chart.y_ticks = _y_axis(chart.frame, every)
        chart.baseline = y(0)
        step = (chart.frame.x1 - chart.frame.x0) / max(len(months) - 1, 1)
        xs = [round(chart.frame.x0 + i * step, 1) for i in range(len(months))]
        for s, source in zip(chart.series, (values, targets), strict=True):
            points = [None if (v := _number(source.get(m))) is None else {"x": x, "y": y(v), "month": m, "value": v}
                      for m, x in zip(months, xs, strict=True)]  # fmt: skip
            s["segments"], s["points"] = _segments(points), [p for p in points if p is not None]
        top, bottom = y(band[1]), y(band[0])
        chart.bars.append({"key": "band", "label": "Target range", "x": chart.frame.x0, "y": top,
                           "width": chart.frame.x1 - chart.frame.x0, "height": round(bottom - top, 1),
                           "low": band[0], "high": band[1]})  # fmt: skip
    return chart

"""`manage.py forecast_csv`: forecast a long-format CSV of monthly series with the engine, no database.

Input columns `series_id,period,value` (period `YYYY-MM` or `YYYY-MM-DD`; several dates of one month
are summed). Each series runs from its first to its last month; months missing inside that range
count as 0 (FC-11). Series are right-aligned on one calendar (each row's last month in the last
column), and each series' forecast periods follow its own last month.
Output columns `series_id,period,model,forecast,lo80,hi80,lo95,hi95`.
"""

import numpy as np
import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from forecasting.engine.base import Panel
from forecasting.engine.pipeline import forecast_panel, load_catalogue

REQUIRED = ("series_id", "period", "value")
OUTPUT = ("series_id", "period", "model", "forecast", "lo80", "hi80", "lo95", "hi95")


def read_series(path: str) -> tuple[Panel, list[pd.Period]]:
    """Read the CSV into a right-aligned Panel; returns the panel and each series' last month."""
    try:
        frame = pd.read_csv(path, dtype={"series_id": str, "period": str, "value": str}, keep_default_na=False)
    except FileNotFoundError as exc:
        raise CommandError(f"input file not found: {path}") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path} as CSV: {exc}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise CommandError(f"missing column(s): {', '.join(missing)} (expected {','.join(REQUIRED)})")
    if frame.empty:
        raise CommandError("the input file has no rows")
    frame["series_id"] = frame["series_id"].str.strip()
    if (frame["series_id"] == "").any():
        line = int(np.flatnonzero(frame["series_id"] == "")[0]) + 2
        raise CommandError(f"line {line}: empty series_id")
    value = pd.to_numeric(frame["value"].str.strip(), errors="coerce")
    bad = value.isna() | ~np.isfinite(value.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise CommandError(f"line {i + 2}: bad number {frame['value'].iloc[i]!r} in column value")
    text = frame["period"].str.strip()
    ok = text.str.fullmatch(r"\d{4}-\d{2}(-\d{2})?")
    dates = pd.to_datetime(text.where(text.str.len() > 7, text + "-01"), format="%Y-%m-%d", errors="coerce")
    bad = ~ok | dates.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise CommandError(f"line {i + 2}: bad period {frame['period'].iloc[i]!r} (expected YYYY-MM or YYYY-MM-DD)")
    month = dates.dt.year.to_numpy() * 12 + dates.dt.month.to_numpy() - 1  # months since year 0
    long = pd.DataFrame({"series_id": frame["series_id"], "month": month, "value": value.to_numpy(dtype=float)})
    long = long.groupby(["series_id", "month"], sort=True)["value"].sum().reset_index()
    ids = long["series_id"].drop_duplicates().tolist()
    codes = pd.Categorical(long["series_id"], categories=ids).codes
    first = long.groupby("series_id", sort=False)["month"].min().reindex(ids).to_numpy()
    last = long.groupby("series_id", sort=False)["month"].max().reindex(ids).to_numpy()
    lengths = last - first + 1
    T = int(lengths.max())
    values = np.full((len(ids), T), np.nan)
    column = T - 1 - (last[codes] - long["month"].to_numpy())  # right-aligned
    inside = np.arange(T)[None, :] >= (T - lengths)[:, None]
    values[inside] = 0.0  # missing months inside a series count as 0
    values[codes, column] = long["value"].to_numpy()
    end = int(last.max())
    start = end - T + 1
    panel = Panel(ids=tuple(ids), values=values, start=f"{start // 12:04d}-{start % 12 + 1:02d}")
    return panel, [pd.Period(year=int(x) // 12, month=int(x) % 12 + 1, freq="M") for x in last]


class Command(BaseCommand):
    help = "Forecast a long-format CSV (series_id,period,value) with the engine and write the forecasts as CSV."
    # Pure file-in, file-out: no system checks (they may need the database) and no model access.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True, help="long-format CSV: series_id,period,value")
        parser.add_argument("--horizon", required=True, type=int, help="months to forecast (≥ 1)")
        parser.add_argument("--season-length", type=int, default=12, help="season length m (default 12)")
        parser.add_argument("--model", default="auto", help="auto (default) or a catalogue model id")
        parser.add_argument("--output", required=True, help="CSV to write")

    def handle(self, *args, **options):
        horizon = options["horizon"]
        m = options["season_length"]
        if horizon < 1:
            raise CommandError(f"--horizon must be at least 1, got {horizon}")
        if m < 1:
            raise CommandError(f"--season-length must be at least 1, got {m}")
        panel, last = read_series(options["input"])
        load_catalogue()
        try:
            result = forecast_panel(panel, horizon, m, model=options["model"], levels=(80, 95))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        n = len(panel.ids)
        steps = np.arange(1, horizon + 1)
        periods = [str(p + int(s)) for p in last for s in steps]
        lo80, hi80 = result.bounds[80]
        lo95, hi95 = result.bounds[95]
        out = pd.DataFrame(
            {
                "series_id": np.repeat(np.asarray(panel.ids, dtype=object), horizon),
                "period": periods,
                "model": np.repeat(np.asarray(result.models, dtype=object), horizon),
                **{
                    name: np.round(array.reshape(-1), 4)
                    for name, array in (
                        ("forecast", result.forecast),
                        ("lo80", lo80),
                        ("hi80", hi80),
                        ("lo95", lo95),
                        ("hi95", hi95),
                    )
                },
            },
            columns=list(OUTPUT),
        )
        try:
            out.to_csv(options["output"], index=False)
        except OSError as exc:
            raise CommandError(f"cannot write {options['output']}: {exc}") from exc
        warned = sum(1 for record in result.records if record.warnings)
        self.stdout.write(
            f"forecast_csv: {n} series, horizon {horizon}, {len(out)} rows written to {options['output']}"
        )
        if warned:
            self.stdout.write(f"forecast_csv: {warned} series with warnings (model fallbacks or failures)")

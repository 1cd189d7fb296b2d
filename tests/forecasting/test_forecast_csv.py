"""`manage.py forecast_csv`: CSV in, forecasts out, no database (no django_db mark: any query would fail)."""

import csv

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from forecasting.management.commands.forecast_csv import OUTPUT, read_series


def write(path, rows, header="series_id,period,value"):
    path.write_text(header + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


def months(start_year, start_month, count):
    out = []
    for i in range(count):
        k = start_year * 12 + start_month - 1 + i
        out.append(f"{k // 12:04d}-{k % 12 + 1:02d}")
    return out


@pytest.fixture
def sample(tmp_path):
    """A: 20 months 2022-11..2024-06 (too short for gradient boosting, which keeps the test fast);
    B: 14 months 2023-03..2024-04 as YYYY-MM-DD dates with 2023-07 missing."""
    rows = []
    for i, period in enumerate(months(2022, 11, 20)):
        rows.append(("A", period, 100 + 20 * np.sin(2 * np.pi * i / 12).round(3)))
    for i, period in enumerate(months(2023, 3, 14)):
        if period != "2023-07":  # a missing month inside B counts as 0
            rows.append(("B", period + "-15", 10 + i))
    return write(tmp_path / "in.csv", rows)


def read_output(path):
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def test_round_trip(sample, tmp_path):
    out = tmp_path / "out.csv"
    call_command(
        "forecast_csv", "--input", str(sample), "--horizon", "3", "--season-length", "12", "--output", str(out)
    )
    fields, rows = read_output(out)
    assert tuple(fields) == OUTPUT
    assert [(r["series_id"], r["period"]) for r in rows] == [
        ("A", "2024-07"),
        ("A", "2024-08"),
        ("A", "2024-09"),
        ("B", "2024-05"),
        ("B", "2024-06"),
        ("B", "2024-07"),
    ]
    for r in rows:
        lo95, lo80, f, hi80, hi95 = (float(r[k]) for k in ("lo95", "lo80", "forecast", "hi80", "hi95"))
        assert 0 <= lo95 <= lo80 <= f <= hi80 <= hi95
        assert r["model"]


def test_explicit_unavailable_model_falls_back(sample, tmp_path):
    out = tmp_path / "out.csv"
    call_command("forecast_csv", "--input", str(sample), "--horizon", "2", "--model", "prophet", "--output", str(out))
    _, rows = read_output(out)
    assert {r["model"] for r in rows if r["series_id"] == "A"} == {"exp_smoothing"}
    assert "prophet" not in {r["model"] for r in rows}


def test_panel_is_right_aligned_with_missing_months_as_zero(sample):
    panel, last = read_series(str(sample))
    assert panel.ids == ("A", "B")
    assert panel.values.shape == (2, 20)
    assert panel.lengths.tolist() == [20, 14]
    b = panel.values[1, -14:]
    assert b[4] == 0.0  # 2023-07
    assert b[0] == 10
    assert b[-1] == 23
    assert [str(p) for p in last] == ["2024-06", "2024-04"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("series_id,month,value\nA,2024-01,1\n", "missing column"),
        ("series_id,period,value\nA,2024-01,1\nA,2024-02,abc\n", "line 3: bad number 'abc'"),
        ("series_id,period,value\nA,2024-13,1\n", "line 2: bad period"),
        ("series_id,period,value\nA,Jan 2024,1\n", "bad period"),
        ("series_id,period,value\n", "no rows"),
    ],
)
def test_bad_files(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("forecast_csv", "--input", str(path), "--horizon", "3", "--output", str(tmp_path / "o.csv"))


def test_bad_horizon_and_missing_file(sample, tmp_path):
    with pytest.raises(CommandError, match="--horizon must be at least 1"):
        call_command("forecast_csv", "--input", str(sample), "--horizon", "0", "--output", str(tmp_path / "o.csv"))
    with pytest.raises(CommandError, match="not found"):
        call_command("forecast_csv", "--input", str(tmp_path / "nope.csv"), "--horizon", "1", "--output", "x.csv")
    with pytest.raises(CommandError, match="unknown model"):
        call_command(
            "forecast_csv", "--input", str(sample), "--horizon", "1", "--model", "zzz", "--output", str(tmp_path / "o")
        )

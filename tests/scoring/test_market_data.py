"""The tolerant loader for the real 1kx monthly reward CSVs, and sustainability figures built on them."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

from scoring.market_data import load_monthly_emissions, parse_month, parse_number
from scoring.sustainability import MonthlySeries, sustainability
from tests.scoring.synthetic import usage_driven

MARKET = Path(__file__).resolve().parents[2].parent / "shared" / "market"


def market_file(name: str) -> Path:
    path = MARKET / name
    if not path.exists():
        pytest.skip("../shared/market is not beside this checkout")
    return path


def test_number_and_month_parsing():
    assert parse_number("1,247,905.58") == 1247905.58 and parse_number("$2.80") == 2.8
    assert parse_number("54.00%") == pytest.approx(0.54) and math.isnan(parse_number(""))
    assert parse_month("Sep 2020") == dt.date(2020, 9, 1) and parse_month("11/2021") == dt.date(2021, 11, 1)
    assert parse_month("2024-2") == dt.date(2024, 2, 1) and parse_month("") is None


def test_akash_file():
    m = load_monthly_emissions(market_file("akash_data_rewards.csv"))
    assert m.months[0] == dt.date(2020, 9, 1) and m.months[-1] == dt.date(2024, 12, 1)
    assert m.usd[1] == pytest.approx(1247905.58)  # Oct 2020 as published
    assert m.usd[m.months.index(dt.date(2024, 10, 1))] == pytest.approx(3_500_000 * 2.47)  # tokens x price


def test_bittensor_file_with_leading_blank_row():
    m = load_monthly_emissions(market_file("bittensor_data_rewards.csv"))
    assert m.months[0] == dt.date(2021, 11, 1)
    assert m.usd[m.months.index(dt.date(2024, 12, 1))] == pytest.approx(120_213_427)
    assert np.isfinite(m.usd).sum() >= 20


def test_render_file_dollar_signs():
    m = load_monthly_emissions(market_file("render_rewards_data.csv"))
    assert len(m.months) == 15 and m.months[3] == dt.date(2024, 2, 1)
    assert m.usd[0] == pytest.approx(958_610)


def test_sustainability_with_emissions_and_burns():
    s = usage_driven(1)
    last = s.dates[-1]
    month = dt.date(last.year, last.month, 1)
    months = [dt.date(month.year - 1 + (month.month + k - 1) // 12, (month.month + k - 1) % 12 + 1, 1)
              for k in range(13)]
    emissions = MonthlySeries(months, np.full(13, 3_000_000.0), "test")
    burns = MonthlySeries(months, np.full(13, 1_500_000.0))
    out = sustainability(s, emissions=emissions, burns=burns)
    assert out["burn_to_mint"] == pytest.approx(0.5)
    assert out["emissions_to_usage"] == pytest.approx(out["emissions_usd_30d"] / out["usage_usd_30d"], rel=1e-3)
    assert out["p_s_annualized"] == pytest.approx(out["market_cap"] / (out["usage_usd_30d"] * 365 / 30), rel=1e-3)
    assert isinstance(out["note"], str) and out["note"]

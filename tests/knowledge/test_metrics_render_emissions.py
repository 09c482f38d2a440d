"""Render's daily emission comes from the registry's monthly table (RNP-006 year 1, RNP-018/RNP-022 5.9M a
year), offline: no cache, no request."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.config import load_settings
from knowledge.metrics.emissions import daily_emission
from knowledge.metrics.service import metric_values
from knowledge.protocols import load_registry, shipped_protocols
from knowledge.store import Store


def _render():
    return next(p for p in shipped_protocols() if p.id == "render")


def test_registry_table_holds_the_rnp_figures():
    em = _render().emission
    assert em["kind"] == "table"
    assert em["monthly_tokens"] == {"2023-11": 760567, "2024-12": 491667, "2025-12": 491667}
    assert 9_126_804 / 12 == pytest.approx(760567, abs=1)  # RNP-006: full first-year emissions / 12
    assert 5_900_000 / 12 == pytest.approx(491667, abs=1)  # RNP-018 / RNP-022: 5.9M a year
    for rnp in ("RNP-006", "RNP-018", "RNP-022"):
        assert rnp in em["note"] and rnp in em["source"]
    assert "Foundation" in em["note"]


@pytest.mark.parametrize("day, monthly, key", [
    (dt.date(2024, 3, 1), 760567, "2023-11"),
    (dt.date(2025, 6, 1), 491667, "2024-12"),
    (dt.date(2026, 11, 25), 491667, "2025-12"),
])
def test_daily_emission_picks_the_month_in_force(day, monthly, key):
    em = daily_emission(_render(), today=day)
    assert em.daily_tokens == pytest.approx(monthly * 12 / 365)
    assert key in em.note and "RNP-022" in em.note


def test_render_emission_figure_served_offline_from_the_registry(tmp_path):
    store = Store(tmp_path / "r.db")
    settings = load_settings(metrics_base_urls="coingecko=http://127.0.0.1:9,defillama=http://127.0.0.1:9")
    value = metric_values(store, load_registry(store), "render", settings)["emissions_daily"]
    expected = daily_emission(_render()).daily_tokens
    assert value.available and value.value == pytest.approx(expected)
    assert value.source == "Emission schedule" and value.unit == "RENDER/day" and value.as_of
    assert "emissions_daily_usd" not in metric_values(store, load_registry(store), "render", settings)  # no price

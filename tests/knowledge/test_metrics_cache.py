"""The metrics cache and service: TTL hits cost no request, failures serve stale figures with their age,
nothing cached + source down is 'unavailable', malformed answers are never stored, series for scoring."""

from __future__ import annotations

import json
import logging
import time

import numpy as np
import pytest

from knowledge.config import load_settings
from knowledge.metrics import cache
from knowledge.metrics.http import FetchPolicy
from knowledge.metrics.service import current_metrics, load_series, refresh_metrics
from knowledge.protocols import load_registry
from knowledge.store import Store
from tests.metrics_server import fixture, metrics_server

FAST = FetchPolicy(timeout_s=0.3, retries=1, backoff_s=0.01, max_backoff_s=0.02, max_retry_after_s=1.0)


@pytest.fixture
def server():
    with metrics_server() as srv:
        yield srv


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "m.db")


def _settings(server, **kw):
    return load_settings(metrics_base_urls=server.base_urls(), **kw)


def _values(store, pid, settings):
    return {v.name: v for v in current_metrics(store, load_registry(store), pid, settings, refresh=False)}


def _age(store, seconds):
    with store.write() as conn:
        conn.execute("UPDATE metrics_cache SET fetched_at = fetched_at - ?", (seconds,))


def test_refresh_then_fresh_read_makes_no_request(server, store):
    settings = _settings(server)
    registry = load_registry(store)
    report = refresh_metrics(store, registry, ["akash"], settings, policy=FAST)
    assert all(e["status"] == "fresh" and e["requested"] for e in report["akash"].values())
    before = server.total()
    assert before >= 6
    values = current_metrics(store, registry, "akash", settings, policy=FAST)  # within the TTL
    assert server.total() == before
    by = {v.name: v for v in values}
    assert by["active_gpus"].value == 412 and by["active_gpus"].unit == "GPUs"
    assert by["active_leases"].value == 1187
    assert round(by["compute_spend_24h"].value) == 21616 and by["compute_spend_24h"].unit == "USD"
    assert by["price"].source == "CoinGecko" and by["price"].as_of and not by["price"].stale


def test_expired_entry_is_refetched(server, store):
    settings = _settings(server, metrics_ttl_s=60)
    refresh_metrics(store, load_registry(store), ["render"], settings, policy=FAST)
    count = server.counts["/coins/markets"]
    _age(store, 120)
    refresh_metrics(store, load_registry(store), ["render"], settings, policy=FAST)
    assert server.counts["/coins/markets"] == count + 1


def test_source_down_serves_last_good_value_marked_stale_with_age(server, store):
    settings = _settings(server, metrics_ttl_s=60)
    refresh_metrics(store, load_registry(store), ["render"], settings, policy=FAST)
    _age(store, 3600)
    server.down("*", "500")
    report = refresh_metrics(store, load_registry(store), ["render"], settings, policy=FAST)
    entry = report["render"]["coingecko:market:render"]
    assert entry["status"] == "stale" and entry["age_s"] >= 3600 and "HTTP 500" in entry["error"]
    price = _values(store, "render", settings)["price"]
    assert price.value == 3.42 and price.stale and price.age_s >= 3600
    assert "stale" in price.note and "60 min" in price.note


def test_failed_refresh_backs_off_instead_of_hammering(server, store):
    settings = _settings(server, metrics_ttl_s=60)
    registry = load_registry(store)
    refresh_metrics(store, registry, ["render"], settings, policy=FAST)
    _age(store, 600)
    server.down("*", "500")
    refresh_metrics(store, registry, ["render"], settings, policy=FAST)
    seen = server.total()
    refresh_metrics(store, registry, ["render"], settings, policy=FAST)  # right after a failure
    assert server.total() == seen
    refresh_metrics(store, registry, ["render"], settings, force=True, policy=FAST)  # --refresh tries anyway
    assert server.total() > seen


@pytest.mark.parametrize("mode", ["malformed", "shape", "slow", "500"])
def test_nothing_cached_and_source_failing_is_unavailable_not_an_exception(server, store, mode):
    server.slow_s = 1.0
    server.down("*", mode)
    settings = _settings(server)
    values = current_metrics(store, load_registry(store), "akash", settings, policy=FAST)
    assert values, "never a blank"
    by = {v.name: v for v in values}
    assert by["price"].value == "unavailable" and by["price"].status == "unavailable"
    assert "coingecko" in by["price"].note.lower()
    assert store.query("SELECT count(*) AS n FROM metrics_cache WHERE key NOT LIKE 'failure:%'")[0]["n"] == 0


def test_bad_answer_never_replaces_a_good_one(server, store):
    settings = _settings(server)
    registry = load_registry(store)
    refresh_metrics(store, registry, ["akash"], settings, policy=FAST)
    good = store.query("SELECT payload FROM metrics_cache WHERE key='dashboard:akash'")[0]["payload"]
    server.down("/v1/dashboard-data", "shape")
    refresh_metrics(store, registry, ["akash"], settings, force=True, policy=FAST)
    assert store.query("SELECT payload FROM metrics_cache WHERE key='dashboard:akash'")[0]["payload"] == good
    assert _values(store, "akash", settings)["active_gpus"].stale


def test_simple_price_fallback_when_markets_answers_a_wrong_shape(server, store):
    server.down("/coins/markets", "shape")
    settings = _settings(server)
    refresh_metrics(store, load_registry(store), ["bittensor"], settings, policy=FAST)
    by = _values(store, "bittensor", settings)
    assert by["price"].value == 331.7 and server.counts["/simple/price"] == 1
    assert "fdv" not in by  # /simple/price has no FDV: not invented


def test_taostats_not_configured_without_key_and_used_with_it(server, store, caplog):
    settings = _settings(server)
    refresh_metrics(store, load_registry(store), ["bittensor"], settings, policy=FAST)
    assert server.counts["/api/stats/latest/v1"] == 0
    assert _values(store, "bittensor", settings)["staked"].value == "not configured"
    key = "tao-secret-abcdef"
    caplog.set_level(logging.DEBUG)
    keyed = _settings(server, taostats_api_key=key)
    refresh_metrics(store, load_registry(store), ["bittensor"], keyed, policy=FAST)
    assert server.counts["/api/stats/latest/v1"] == 1
    assert server.headers[-1]["authorization"] == key or any(h.get("authorization") == key for h in server.headers)
    by = _values(store, "bittensor", keyed)
    assert round(by["staked"].value) == 6012334 and by["subnets"].value == 128
    server.down("/api/stats/latest/v1", "500")
    report = refresh_metrics(store, load_registry(store), ["bittensor"], keyed, force=True, policy=FAST)
    assert key not in json.dumps(report) and key not in caplog.text


def test_emissions_from_the_schedule(server, store):
    settings = _settings(server)
    refresh_metrics(store, load_registry(store), None, settings, policy=FAST)
    tao = _values(store, "bittensor", settings)["emissions_daily"]
    assert tao.value == 7200 and tao.unit == "TAO/day"  # 9.23M supply: before the 10.5M halving
    akt = _values(store, "akash", settings)["emissions_daily"]
    assert akt.value == pytest.approx(0.1318 * 270745388.112233 / 365, rel=1e-6)
    render = _values(store, "render", settings)["emissions_daily"]  # the registry's monthly table
    assert render.available and render.unit == "RENDER/day" and "emission table" in render.note


def test_halving_thresholds():
    from knowledge.metrics.emissions import halvings_passed

    assert halvings_passed(10_499_999, 10_500_000, 21_000_000) == 0
    assert halvings_passed(10_500_000, 10_500_000, 21_000_000) == 1
    assert halvings_passed(15_750_000, 10_500_000, 21_000_000) == 2


def test_load_series_from_cached_histories(server, store):
    settings = _settings(server)
    registry = load_registry(store)
    assert load_series(store, registry, "akash") is None  # nothing cached yet
    refresh_metrics(store, registry, ["akash", "render"], settings, policy=FAST)
    akash = load_series(store, registry, "akash")
    assert len(akash) == 120 and akash.dates == sorted(akash.dates)
    assert np.isfinite(akash.price).all() and np.isfinite(akash.market_cap).all()
    assert np.isfinite(akash.usage_usd).sum() == 60  # Akash Console daily spend covers the last 60 days
    last = fixture("akash_graph_dailyUUsdSpent.json")["snapshots"][-1]["value"] / 1e6
    assert akash.usage_usd[-1] == pytest.approx(last)
    assert akash.circulating_supply[-1] == pytest.approx(270e6, rel=1e-3)
    render = load_series(store, registry, "render")
    assert "DefiLlama" in render.source and render.has_usage


def test_cache_peek_states(store):
    assert cache.peek(store, "coingecko", "market:x", 60).status == "unavailable"
    cache.write(store, "coingecko", "market:x", {"price": 1.0}, time.time() - 10)
    assert cache.peek(store, "coingecko", "market:x", 60).status == "fresh"
    assert cache.peek(store, "coingecko", "market:x", 5).status == "stale"

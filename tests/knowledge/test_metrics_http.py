"""fetch_json and the source validators against the real httpx client and a local fake API server."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest

from knowledge.errors import SourceUnavailableError
from knowledge.metrics import akash_console, coingecko, defillama
from knowledge.metrics.http import USER_AGENT, FetchPolicy, fetch_json, retry_after_seconds
from tests.metrics_server import fixture, metrics_server

FAST = FetchPolicy(timeout_s=0.3, retries=2, backoff_s=0.01, max_backoff_s=0.02, max_retry_after_s=2.0)


def _get(url: str, validate=None, policy: FetchPolicy = FAST, **kw):
    async def go():
        async with httpx.AsyncClient() as client:
            return await fetch_json(client, url, {"vs_currency": "usd", "ids": "render-token"}, kw.pop("headers", None),
                                    validate, policy=policy, source="coingecko", **kw)

    return asyncio.run(go())


def _markets(data):
    return coingecko.validate_markets(data, "render-token")


@pytest.fixture
def server():
    with metrics_server() as srv:
        yield srv


def test_200_returns_validated_payload_with_user_agent(server):
    data = _get(server.base + "/coins/markets", _markets)
    assert data["price"] == 3.42 and data["fdv"] == 1820614700 and data["circulating_supply"] == 518389243
    assert server.headers[0]["user-agent"] == USER_AGENT
    assert server.counts["/coins/markets"] == 1


def test_429_with_retry_after_is_honoured_then_succeeds(server):
    server.retry_after = "0.2"  # delta-seconds; small so the test stays fast
    server.script("/coins/markets", "429")
    started = time.monotonic()
    data = _get(server.base + "/coins/markets", _markets)
    assert data["price"] == 3.42
    assert server.counts["/coins/markets"] == 2
    assert time.monotonic() - started >= 0.2  # waited at least what the server asked


def test_retry_after_beyond_the_cap_gives_up_at_once(server):
    server.retry_after = "120"
    server.down("/coins/markets", "429")
    with pytest.raises(SourceUnavailableError, match="429"):
        _get(server.base + "/coins/markets", _markets)
    assert server.counts["/coins/markets"] == 1


def test_500_is_retried_a_bounded_number_of_times(server):
    server.down("/coins/markets", "500")
    with pytest.raises(SourceUnavailableError, match="HTTP 500"):
        _get(server.base + "/coins/markets", _markets)
    assert server.counts["/coins/markets"] == FAST.retries + 1


def test_500_then_recovery(server):
    server.script("/coins/markets", "500", "503")
    server.retry_after = "0"
    assert _get(server.base + "/coins/markets", _markets)["price"] == 3.42
    assert server.counts["/coins/markets"] == 3


def test_404_is_not_retried(server):
    with pytest.raises(SourceUnavailableError, match="404"):
        _get(server.base + "/v1/graph-data/noSuchGraph", akash_console.validate_graph)
    assert server.counts["/v1/graph-data/noSuchGraph"] == 1


def test_timeout_raises_source_unavailable(server):
    server.slow_s = 1.0
    server.down("/coins/markets", "slow")
    policy = FetchPolicy(timeout_s=0.1, retries=1, backoff_s=0.01)
    with pytest.raises(SourceUnavailableError, match="timed out"):
        _get(server.base + "/coins/markets", _markets, policy=policy)
    assert server.counts["/coins/markets"] == 2


def test_malformed_json_is_rejected(server):
    server.down("/coins/markets", "malformed")
    with pytest.raises(SourceUnavailableError, match="malformed JSON"):
        _get(server.base + "/coins/markets", _markets)


def test_wrong_shape_is_rejected(server):
    server.down("/coins/markets", "shape")
    with pytest.raises(SourceUnavailableError, match="shape"):
        _get(server.base + "/coins/markets", _markets)


def test_connection_refused_is_source_unavailable():
    with pytest.raises(SourceUnavailableError, match="connection failed"):
        _get("http://127.0.0.1:9/coins/markets", _markets, policy=FetchPolicy(timeout_s=0.2, retries=0))


def test_secret_never_in_error_or_logs(server, caplog):
    secret = "CG-secret-key-123456"
    server.down("/coins/markets", "500")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceUnavailableError) as info:
        _get(server.base + "/coins/markets", _markets, headers={"x-cg-demo-api-key": secret})
    assert server.headers[0]["x-cg-demo-api-key"] == secret  # it was sent...
    assert secret not in str(info.value)  # ...but never shown
    assert secret not in caplog.text
    assert "coingecko" in caplog.text  # the failure itself is logged


def test_retry_after_parsing():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("garbage") is None
    assert retry_after_seconds(None) is None
    assert 0 <= retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a past date: no wait


@pytest.mark.parametrize("bad", [
    [],  # no row for the coin
    [{"id": "render-token", "current_price": "abc"}],
    [{"id": "render-token", "current_price": -1}],
    [{"id": "render-token", "current_price": 3.4, "market_cap": {"usd": 1}}],
    {"render-token": 3.4},
])
def test_markets_validation_rejects_bad_shapes(bad):
    with pytest.raises(ValueError):
        coingecko.validate_markets(bad, "render-token")


def test_other_validators_accept_fixtures_and_reject_wrong_shapes():
    chart = coingecko.validate_chart(fixture("coingecko_market_chart_bittensor.json"))
    assert len(chart["prices"]) == 120
    with pytest.raises(ValueError):
        coingecko.validate_chart({"prices": [[1, 2]], "market_caps": "x", "total_volumes": []})
    dash = akash_console.validate_dashboard(fixture("akash_dashboard.json"))
    assert dash["now"]["active_gpu"] == 412 and round(dash["now"]["daily_spend_usd"]) == 21616
    assert round(dash["total_supply"]) == 270745388  # uakt -> AKT
    with pytest.raises(ValueError):
        akash_console.validate_dashboard({"now": {"activeLeaseCount": "many"}})
    graph = akash_console.validate_graph(fixture("akash_graph_dailyUUsdSpent.json"))
    assert graph["points"][0][0] == "2025-05-02" and graph["points"][-1][0] == "2025-06-30"
    with pytest.raises(ValueError):
        akash_console.validate_graph({"snapshots": [{"date": 5, "value": 1}]})
    fees = defillama.validate_summary(fixture("defillama_render_dailyFees.json"))
    assert fees["total30d"] > fees["total7d"] > fees["total24h"] > 0
    with pytest.raises(ValueError):
        defillama.validate_summary({"name": "x", "totalDataChart": [["a", 1]]})
    with pytest.raises(ValueError):
        defillama.validate_summary({"name": "x"})

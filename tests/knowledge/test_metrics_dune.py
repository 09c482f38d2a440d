"""Dune: mapped metrics are fetched with the key and served with as of and source; without the key or a
mapping they say 'not configured' and nothing is requested; wrong shapes are rejected whole; the key never
shows in errors or logs. Real httpx client against the fake API on 127.0.0.1."""

from __future__ import annotations

import json
import logging

import pytest

from knowledge.config import load_settings
from knowledge.metrics import cache, dune
from knowledge.metrics.http import FetchPolicy
from knowledge.metrics.service import current_metrics, metric_values, refresh_metrics
from knowledge.protocols import load_registry
from knowledge.store import Store
from tests.metrics_server import dune_result, metrics_server

FAST = FetchPolicy(timeout_s=0.3, retries=1, backoff_s=0.01, max_backoff_s=0.02, max_retry_after_s=1.0)
KEY = "dune-secret-key-0123456789"
PATH = "/api/v1/query/3456789/results"
MAPPING = "render:burns_30d=3456789:burned_usd"


@pytest.fixture
def server():
    with metrics_server() as srv:
        yield srv


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "d.db")


def _settings(server, **kw):
    return load_settings(metrics_base_urls=server.base_urls(), **kw)


def _dune_rows(store):
    return store.conn.execute("SELECT key, payload FROM metrics_cache WHERE source='dune'").fetchall()


def test_configured_query_is_served_with_as_of_and_source(server, store):
    settings = _settings(server, dune_api_key=KEY, dune_queries=MAPPING)
    registry = load_registry(store)
    report = refresh_metrics(store, registry, ["render"], settings, policy=FAST)
    entry = report["render"]["dune:burns_30d:render=3456789:burned_usd"]
    assert entry["status"] == "fresh" and entry["requested"]
    assert server.counts[PATH] == 1
    sent = [h for h in server.headers if h["path"] == PATH][-1]
    assert sent["x-dune-api-key"] == KEY
    burns = metric_values(store, registry, "render", settings)["burns_30d"]
    assert burns.value == 1234567.5 and burns.unit == "USD"
    assert burns.source == "Dune" and burns.url == "https://dune.com/queries/3456789"
    assert burns.as_of.endswith("Z") and burns.status == "fresh" and not burns.stale
    assert "query 3456789" in burns.note and "burned_usd" in burns.note
    # within the TTL a second read makes no request
    current_metrics(store, registry, "render", settings, policy=FAST)
    assert server.counts[PATH] == 1


def test_column_inferred_from_the_metric_name_or_a_single_column(server, store):
    body = dune_result(42)
    body["result"]["rows"] = [{"active_leases": 17}]
    body["result"]["metadata"]["column_names"] = ["active_leases"]
    server.dune_bodies[42] = body
    settings = _settings(server, dune_api_key=KEY, dune_queries="akash:active_leases=42")
    refresh_metrics(store, load_registry(store), ["akash"], settings, policy=FAST)
    value = metric_values(store, load_registry(store), "akash", settings)["active_leases"]
    assert value.value == 17 and value.source == "Dune"


def test_missing_key_says_not_configured_and_makes_no_request(server, store):
    settings = _settings(server, dune_queries="render:active_gpus=3456789:burned_usd," + MAPPING)
    refresh_metrics(store, load_registry(store), ["render"], settings, policy=FAST)
    assert server.counts[PATH] == 0
    values = metric_values(store, load_registry(store), "render", settings)
    assert values["active_gpus"].value == "not configured" and values["active_gpus"].source == "Dune"
    assert "DUNE_API_KEY" in values["active_gpus"].note
    # burns_30d has DefiLlama's figure: kept, with a note that the Dune query is not configured
    assert values["burns_30d"].source == "DefiLlama" and values["burns_30d"].available
    assert "not configured" in values["burns_30d"].note


def test_missing_mapping_makes_no_request_and_adds_nothing(server, store):
    settings = _settings(server, dune_api_key=KEY)
    refresh_metrics(store, load_registry(store), ["render"], settings, policy=FAST)
    assert not any(p.startswith("/api/v1/query/") for p in server.counts)
    assert all(v.source != "Dune" for v in metric_values(store, load_registry(store), "render", settings).values())


@pytest.mark.parametrize("mutate", [
    lambda b: b.update(state="QUERY_STATE_PENDING"),
    lambda b: b.pop("execution_id"),
    lambda b: b["result"].update(rows=[]),
    lambda b: b["result"].update(rows={"burned_usd": 1}),
    lambda b: b["result"]["metadata"].update(column_names=["day"]),
    lambda b: b["result"]["rows"][0].update(burned_usd="lots"),
    lambda b: b["result"].pop("metadata"),
    lambda b: b.clear(),
])
def test_malformed_shape_is_rejected_and_nothing_stored(server, store, mutate):
    body = dune_result(3456789)
    mutate(body)
    server.dune_bodies[3456789] = body
    settings = _settings(server, dune_api_key=KEY, dune_queries=MAPPING)
    report = refresh_metrics(store, load_registry(store), ["render"], settings, policy=FAST)
    entry = report["render"]["dune:burns_30d:render=3456789:burned_usd"]
    assert entry["status"] == "unavailable" and "unexpected response shape" in entry["error"]
    assert all(key.startswith(cache.FAILURE_PREFIX) for key, _ in _dune_rows(store))  # no payload stored
    burns = metric_values(store, load_registry(store), "render", settings)["burns_30d"]
    assert burns.source != "Dune"


def test_bad_answer_never_replaces_a_good_one_and_old_value_is_served_stale(server, store):
    settings = _settings(server, dune_api_key=KEY, dune_queries=MAPPING, metrics_ttl_s=60)
    refresh_metrics(store, load_registry(store), ["render"], settings, policy=FAST)
    server.script(PATH, "shape", then="shape")
    refresh_metrics(store, load_registry(store), ["render"], settings, force=True, policy=FAST)
    burns = metric_values(store, load_registry(store), "render", settings)["burns_30d"]
    assert burns.value == 1234567.5 and burns.source == "Dune" and burns.stale and "stale" in burns.note


def test_key_never_in_errors_or_logs(server, store, caplog):
    caplog.set_level(logging.DEBUG)
    settings = _settings(server, dune_api_key=KEY, dune_queries=MAPPING)
    server.down(PATH, "500")
    report = refresh_metrics(store, load_registry(store), ["render"], settings, force=True, policy=FAST)
    assert "HTTP 500" in report["render"]["dune:burns_30d:render=3456789:burned_usd"]["error"]
    server.down(PATH, "shape")
    report2 = refresh_metrics(store, load_registry(store), ["render"], settings, force=True, policy=FAST)
    values = metric_values(store, load_registry(store), "render", settings)
    text = json.dumps(report) + json.dumps(report2) + json.dumps([v.to_json() for v in values.values()])
    text += json.dumps([list(r) for r in store.conn.execute("SELECT * FROM metrics_cache").fetchall()])
    assert KEY not in text and KEY not in caplog.text and KEY not in repr(settings)


def test_mapping_parse_is_strict_with_one_warning(caplog):
    caplog.set_level(logging.WARNING, logger="knowledge.metrics.dune")
    spec = ("render:burns_30d=3456789:burned_usd, akash:active_leases=42 ,,"
            "render:burns_30d=1:x,Render:price=1,render:nonsense=5,render:fees_7d=abc,render:p_f=7,"
            "bittensor:staked=0,render fees_30d=9")
    good, bad = dune.parse_queries(spec)
    assert [(q.protocol, q.metric, q.query_id, q.column) for q in good] == [
        ("render", "burns_30d", 3456789, "burned_usd"), ("akash", "active_leases", 42, None)]
    assert len(bad) == 7
    settings = load_settings(dune_queries=spec + ",warn-once-marker")
    protocol = load_registry().get("render")
    dune.queries_for(protocol, settings)
    dune.queries_for(protocol, settings)
    lines = [r for r in caplog.records if "COMPUTE_DESK_DUNE_QUERIES" in r.getMessage()]
    assert len(lines) == 1 and "8 bad entries" in lines[0].getMessage()


def test_setting_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("COMPUTE_DESK_DUNE_QUERIES", MAPPING)
    assert load_settings().dune_queries == MAPPING

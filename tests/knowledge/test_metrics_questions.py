"""Metric questions: detection (tight: doc questions and opinions are not hijacked) and answers from the
cached fixtures with figure, unit, as of, a `metric` source, stale marking and 'not available' naming a source."""

from __future__ import annotations

import pytest

from knowledge.config import load_settings
from knowledge.metrics.http import FetchPolicy
from knowledge.metrics.questions import answer_metric_question, detect_metric_question
from knowledge.metrics.service import refresh_metrics
from knowledge.protocols import load_registry
from knowledge.store import Store
from tests.metrics_server import metrics_server

FAST = FetchPolicy(timeout_s=0.3, retries=0, backoff_s=0.01)


@pytest.fixture(scope="module")
def cached(tmp_path_factory):
    """A store whose metrics cache holds every fixture (fetched once from the fake API server)."""
    store = Store(tmp_path_factory.mktemp("mq") / "m.db")
    with metrics_server() as srv:
        settings = load_settings(metrics_base_urls=srv.base_urls())
        refresh_metrics(store, load_registry(store), None, settings, policy=FAST)
    return store


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def ask(store, registry, question):
    query = detect_metric_question(question, registry)
    assert query is not None, question
    return query, answer_metric_question(store, registry, query, settings=load_settings(metrics_ttl_s=10**9))


@pytest.mark.parametrize("question, protocol, figure, source", [
    ("what's TAO's market cap?", "bittensor", "$3.06 billion", "coingecko"),
    ("What is the price of RENDER right now?", "render", "$3.42", "coingecko"),
    ("AKT price?", "akash", "$1.21", "coingecko"),
    ("how many GPUs are leased on Akash?", "akash", "412 GPUs", "akash_console"),
    ("How many active leases are on Akash right now?", "akash", "1,187 leases", "akash_console"),
    ("how much did Akash earn from leases this week?", "akash", "compute spend on leases, last 7 days", "akash_console"),
    ("How much in fees did Render make in the last 30 days?", "render", "fees, last 30 days", "defillama"),
    ("What's Render's FDV?", "render", "$1.82 billion", "coingecko"),
    ("What is the circulating supply of AKT?", "akash", "270,745,388 AKT", "coingecko"),
    ("what is the 24h trading volume of TAO?", "bittensor", "$98.42 million", "coingecko"),
    ("What is Akash's P/S ratio?", "akash", "x", "defillama"),
    ("What are Bittensor's daily emissions?", "bittensor", "7,200 TAO a day", "schedule"),
])
def test_metric_questions_answered_with_figure_as_of_and_metric_source(cached, registry, question, protocol,
                                                                      figure, source):
    query, answer = ask(cached, registry, question)
    assert query.protocol == protocol
    assert answer.available and answer.protocol == protocol
    assert figure in answer.text and "as of" in answer.text and "[1]" in answer.text
    first = answer.sources[0]
    assert first.kind == "metric" and first.rank == 1 and first.date and first.protocol == protocol
    assert first.path.startswith(f"metric:{source}:{protocol}:") or source == "defillama" and "derived" in first.path
    assert "STALE" not in answer.text
    assert len(answer.sources) == answer.text.count("[")


def test_source_path_title_and_url(cached, registry):
    _, answer = ask(cached, registry, "what's TAO's market cap?")
    src = answer.sources[0]
    assert src.path == "metric:coingecko:bittensor:market_cap"
    assert src.title == "CoinGecko — TAO market cap"
    assert src.url == "https://www.coingecko.com/en/coins/bittensor"
    assert src.to_json()["kind"] == "metric"


def test_unconfigured_metric_says_not_available_and_names_the_source(cached, registry):
    _, answer = ask(cached, registry, "How much in fees did Bittensor make this month?")
    assert not answer.available and answer.sources == []
    assert "not available" in answer.text and "DefiLlama" in answer.text
    _, gpus = ask(cached, registry, "how many GPUs are leased on Render right now?")
    assert not gpus.available and "Akash Console API" in gpus.text


def test_key_needing_metric_says_not_configured(cached, registry):
    _, answer = ask(cached, registry, "how much TAO is staked right now?")
    assert not answer.available and "TAOSTATS_API_KEY" in answer.text


def test_stale_figures_are_marked(tmp_path, registry):
    store = Store(tmp_path / "s.db")
    with metrics_server() as srv:
        settings = load_settings(metrics_base_urls=srv.base_urls(), metrics_ttl_s=60)
        refresh_metrics(store, registry, ["akash"], settings, policy=FAST)
    with store.write() as conn:
        conn.execute("UPDATE metrics_cache SET fetched_at = fetched_at - 7200")
    query = detect_metric_question("how many GPUs are leased on Akash?", registry)
    answer = answer_metric_question(store, registry, query, settings=settings)
    assert answer.available and answer.stale and "STALE" in answer.text and "2.0 h" in answer.text


def test_nothing_cached_says_unavailable_not_a_passage(tmp_path, registry):
    store = Store(tmp_path / "empty.db")
    query = detect_metric_question("what's TAO's market cap?", registry)
    answer = answer_metric_question(store, registry, query, settings=load_settings())
    assert not answer.available and "not available" in answer.text and "CoinGecko" in answer.text


def test_refresh_option_fetches_when_nothing_is_cached(tmp_path, registry):
    store = Store(tmp_path / "r.db")
    with metrics_server() as srv:
        settings = load_settings(metrics_base_urls=srv.base_urls())
        query = detect_metric_question("AKT price?", registry)
        answer = answer_metric_question(store, registry, query, settings=settings, refresh=True)
    assert answer.available and "$1.21" in answer.text


def test_why_question_needs_documents_too(registry):
    query = detect_metric_question("why did Akash's spend jump after Mainnet 6?", registry)
    assert query is not None and query.needs_documents and query.protocol == "akash"
    assert query.metrics == ["compute_spend_30d"]  # one figure beside the passages


def test_protocol_from_context_when_not_named(cached, registry):
    query = detect_metric_question("what's the market cap now?", registry)
    assert query is not None and query.protocol is None
    query.protocol = "akash"  # what the engine does in a thread that is about Akash
    assert "$327.60 million" in answer_metric_question(cached, registry, query).text


@pytest.mark.parametrize("question", [
    "how many rao are in 1 tao?",
    "roughly how much TAO gets created per day across the whole network?",
    "do you think AKT hits $10 before the end of next year?",
    "would you buy the dip?",
    "is RENDER undervalued right now? would you buy the dip?",
    "if you had 5k AKT would you stake it or just sit on it? what would you personally do",
    "What is the Akash take rate?",
    "what fees does akash charge on USDC leases?",
    "How does Render's burn-and-mint equilibrium work?",
    "How is the price of a lease determined on Akash?",
    "how are Akash GPU prices set?",
    "What is the halving schedule of TAO?",
    "What does FDV mean?",
    "What is FDV?",
    "what % of a subnet's emissions does the subnet owner actually get?",
    "what % of the token supply has to take part for a final RNP vote to count?",
    "is AKT supply capped? what's the max supply supposed to be relative to the genesis supply?",
    "how much per hour does a 4090 cost on the Render compute network?",
    "How many subnets can Bittensor have at most?",
    "what values can I put for the GPU interface in my SDL?",
    "What do Render creators burn for each frame job?",
    "Does Render burn tokens?",
    "what do akash providers earn?",
    "how much of the network's total stake does a hotkey need to be eligible for the senate?",
    "how much AKT do I need to become a provider?",
    "how many RENDER tokens are going to get burned in total during 2027?",
    "what will the TAO emissions be in 2031?",
    # about what a document says, or a figure of the past: no live value answers them
    "what's the main problem akash has to solve on the supply side according to the article?",
    "what was the total crypto market cap mentioned in the Aug 2023 compute article?",
    "per that Aug 2023 decentralized compute article, how much was spent on Akash compute right after the GPU launch?",
    "what was bitcoin trading at when that decentralized compute article came out?",
    "what was RNDR's price in August 2023?",
    "how does akash grow its GPU supply before demand shows up?",
    "what does the starter pack say about TAO's market cap?",
    "how much was spent on Akash compute right after the GPU launch?",
    "what was TAO's price when the halving happened?",
    # what a deal cost is in the proposal that made it
    "what was the total price tag on the cloudmos acquisition?",
    "how much did akash pay to acquire cloudmos?",
    # a numbered period of a schedule is in the past too
    "what were the monthly token emissions during year 1 of BME?",
    "how much RENDER was emitted in the first year of BME?",
])
def test_document_and_opinion_questions_are_not_metric_questions(registry, question):
    assert detect_metric_question(question, registry) is None


def test_a_past_tense_question_over_a_live_period_is_still_a_metric_question(registry):
    """'was spent ... yesterday' asks for a live flow; only a past event or year sends it to the documents."""
    query = detect_metric_question("how much was spent on akash compute yesterday?", registry)
    assert query is not None and query.metrics == ["compute_spend_24h"]
    query = detect_metric_question("how much was spent on akash compute in the last 30 days?", registry)
    assert query is not None and query.metrics == ["compute_spend_30d"]

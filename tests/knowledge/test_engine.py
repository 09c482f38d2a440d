"""The engine end to end on the hash embedder: ingest, versions, remove/restore, audit, ask, declines, gaps."""

import json

import pytest

from knowledge.config import load_settings
from knowledge.engine import Engine
from knowledge.errors import BadInputError, NotFoundError

TAKE_RATE = """---
protocol: akash
title: Take rates
---
# Take rates

## USDC leases
The take rate on USDC leases is 20% of lease payments, set with the Mainnet 6 upgrade.

## AKT leases
The take rate on AKT leases is 4%, lower to encourage paying in AKT.
"""

SUBNETS = """# Subnet emissions

## Owner share
A subnet owner receives 18% of the subnet's emissions, miners 41% and validators with stakers 41%.
"""


@pytest.fixture
def engine(tmp_path):
    return Engine(load_settings(db_path=tmp_path / "kb.db", embedder="hash"))


@pytest.fixture
def docs(tmp_path):
    root = tmp_path / "docs"
    (root / "akash").mkdir(parents=True)
    (root / "bittensor").mkdir()
    (root / "akash" / "take-rate.md").write_text(TAKE_RATE)
    (root / "bittensor" / "emissions.md").write_text(SUBNETS)
    return root


def counts(engine):
    q = lambda sql: engine.store.conn.execute(sql).fetchone()[0]  # noqa: E731
    return q("SELECT count(*) FROM documents"), q("SELECT count(*) FROM chunks"), q("SELECT count(*) FROM chunks_fts")


def test_folder_ingest_keys_are_relative_paths_and_reingest_does_no_work(engine, docs):
    report = engine.ingest([str(docs)], actor="mod:1")
    assert report.count("added") == 2 and not report.failed
    keys = {d["key"] for d in engine.list_documents()}
    assert keys == {"akash/take-rate.md", "bittensor/emissions.md"}
    before = counts(engine)
    generation = engine.store.generation()
    again = engine.ingest([str(docs)], actor="mod:1")
    assert again.count("unchanged") == 2 and again.count("added") == 0
    assert counts(engine) == before and engine.store.generation() == generation


def test_protocol_comes_from_front_matter_or_text(engine, docs):
    engine.ingest([str(docs)], actor="mod:1")
    protocols = {d["key"]: d["protocol"] for d in engine.list_documents()}
    assert protocols["akash/take-rate.md"] == "akash"
    assert protocols["bittensor/emissions.md"] == "bittensor"  # 'subnet' names Bittensor


def test_changed_file_replaces_its_chunks_and_keeps_the_old_version(engine, docs):
    engine.ingest([str(docs)], actor="mod:1")
    path = docs / "akash" / "take-rate.md"
    path.write_text(TAKE_RATE.replace("20%", "25%"))
    report = engine.ingest([str(path.parent.parent)], actor="mod:2")
    assert report.count("updated") == 1
    doc = engine.show_document("akash/take-rate.md")
    assert doc["version"] == 2 and [v["version"] for v in doc["versions"]] == [1, 2]
    texts = [r[0] for r in engine.store.conn.execute(
        "SELECT c.text FROM chunks c JOIN documents d ON d.id=c.document_id WHERE d.key='akash/take-rate.md'")]
    assert any("25%" in t for t in texts) and not any("20%" in t for t in texts)
    # FTS index follows the chunks table exactly (triggers), so no stale hit remains.
    assert counts(engine)[1] == counts(engine)[2]
    # Restore brings back the previous version's text, as a new version, audited.
    message = engine.restore("akash/take-rate.md", actor="mod:3")
    assert "version 1" in message
    answer = engine.ask("what is the take rate on USDC leases?")
    assert "20%" in answer.answer
    actions = [h["action"] for h in engine.history("akash/take-rate.md")]
    assert actions[:3] == ["restore-version", "update", "add"]


def test_remove_hides_a_document_and_restore_brings_it_back(engine, docs):
    engine.ingest([str(docs)], actor="mod:1")
    engine.remove("akash/take-rate.md", actor="mod:9")
    answer = engine.ask("what is the take rate on USDC leases?", log_gap=False)
    assert all(s.path != "akash/take-rate.md" for s in answer.sources)
    assert "akash/take-rate.md" not in {d["key"] for d in engine.list_documents()}
    assert "akash/take-rate.md" in {d["key"] for d in engine.list_documents(include_removed=True)}
    engine.restore("akash/take-rate.md", actor="mod:9")
    answer = engine.ask("what is the take rate on USDC leases?")
    assert answer.sources[0].path == "akash/take-rate.md"
    history = engine.history("akash/take-rate.md")
    assert [(h["actor"], h["action"]) for h in history[:2]] == [("mod:9", "restore"), ("mod:9", "remove")]
    with pytest.raises(NotFoundError):
        engine.remove("nope.md", actor="mod:9")


def test_ask_json_contract_and_citations(engine, docs):
    engine.ingest([str(docs)], actor="mod:1")
    answer = engine.ask("what is the take rate on USDC leases?", qid="q1")
    data = answer.to_json()
    assert {"id", "question", "answer", "declined", "confidence", "sources", "timing_ms"} <= data.keys()
    assert data["id"] == "q1" and data["declined"] is False and 0 <= data["confidence"] <= 1
    assert data["sources"][0]["rank"] == 1 and data["sources"][0]["path"] == "akash/take-rate.md"
    assert {"rank", "path", "title", "section", "url", "date", "score"} <= data["sources"][0].keys()
    assert "20%" in data["answer"] and "[1]" in data["answer"] and len(data["answer"]) <= 1000
    assert len({s["path"] for s in data["sources"]}) == len(data["sources"])  # distinct documents
    # every marker points to a listed source
    import re
    assert {int(m) for m in re.findall(r"\[(\d+)\]", data["answer"])} <= set(range(1, len(data["sources"]) + 1))


def test_an_archived_copy_does_not_take_a_second_place_in_the_top_k(engine, docs):
    # Documentation trees keep archived copies of pages; a copy adds nothing beside the page it copies.
    (docs / "akash" / "archive").mkdir()
    (docs / "akash" / "archive" / "take-rate-old.md").write_text(TAKE_RATE)
    (docs / "akash" / "leases.md").write_text("# Leases\n\nA lease pays the provider for USDC or AKT compute.\n")
    engine.ingest([str(docs)], actor="mod:1")
    answer = engine.ask("what is the take rate on USDC leases?", k=2, log_gap=False)
    paths = [s.path for s in answer.sources]
    assert len(paths) == 2 and len({"akash/take-rate.md", "akash/archive/take-rate-old.md"} & set(paths)) == 1
    assert "akash/leases.md" in paths
    # with room for everything, the copy is still listed (after the distinct documents), not lost
    paths = [s.path for s in engine.ask("what is the take rate on USDC leases?", k=10, log_gap=False).sources]
    assert {"akash/take-rate.md", "akash/archive/take-rate-old.md", "akash/leases.md"} <= set(paths)
    assert paths.index("akash/leases.md") < max(paths.index("akash/take-rate.md"),
                                                 paths.index("akash/archive/take-rate-old.md"))


def test_protocol_filter_is_strict(engine, docs):
    engine.ingest([str(docs)], actor="mod:1")
    answer = engine.ask("emissions share", protocol="AKT", log_gap=False)
    assert all(s.protocol in ("akash", "all") for s in answer.sources)


def test_unanswerable_and_opinion_questions_are_declined_and_logged(engine, docs):
    engine.ingest([str(docs)], actor="mod:1")
    off_topic = engine.ask("any tips for getting my sourdough starter more active?")
    assert off_topic.declined and "doesn't hold" in off_topic.answer
    opinion = engine.ask("would you buy the dip on AKT right now?")
    assert opinion.declined and "advice" in opinion.answer
    engine.ask("any tips for getting my sourdough starter more active?")
    gaps = engine.gaps()
    top = gaps[0]
    assert top["count"] == 2 and "sourdough" in top["question"]


@pytest.mark.parametrize("question", ["", "   ", "x" * 5000, "?!?"])
def test_bad_questions_get_a_clear_message(engine, question):
    with pytest.raises(BadInputError):
        engine.ask(question)


@pytest.mark.parametrize("question", ['"take rate', 'take NEAR rate', 'rate*', '-rate', "'; DROP TABLE documents; --",
                                      "title:rate", "(take OR", "^rate", "AND AND"])
def test_fts_syntax_in_questions_is_harmless(engine, docs, question):
    engine.ingest([str(docs)], actor="mod:1")
    answer = engine.ask(question, log_gap=False)
    assert isinstance(answer.answer, str) and answer.answer
    assert engine.store.conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 2


def test_pasted_text_and_upload_are_documents(engine):
    engine.ingest_text("The GPU interface may be pcie or sxm.", title="SDL GPU interface", actor="mod:5",
                       protocol="akash")
    report = engine.ingest_bytes(b"# Leases\n\nA lease is an agreement between tenant and provider.", "leases.md",
                                 actor="mod:5")
    assert report.count("added") == 1
    keys = {d["key"] for d in engine.list_documents()}
    assert keys == {"text/sdl-gpu-interface", "upload/leases.md"}
    with pytest.raises(BadInputError):
        engine.ingest_text("body", title=" ", actor="mod:5")


def test_feedback_is_stored_once_per_user(engine, docs):
    engine.ingest([str(docs)], actor="mod:1")
    answer = engine.ask("take rate on USDC leases")
    engine.record_feedback(answer.answer_id, "u1", 1)
    engine.record_feedback(answer.answer_id, "u1", -1)
    engine.record_feedback(answer.answer_id, "u2", 1)
    rows = engine.store.query("SELECT user_id, vote FROM feedback ORDER BY user_id")
    assert rows == [{"user_id": "u1", "vote": -1}, {"user_id": "u2", "vote": 1}]
    with pytest.raises(NotFoundError):
        engine.record_feedback("missing", "u1", 1)


def test_bad_files_in_a_batch_do_not_stop_it(engine, tmp_path):
    root = tmp_path / "mixed"
    root.mkdir()
    (root / "good.md").write_text("# Good\n\nAkash providers bid on deployments in the marketplace.")
    (root / "empty.md").write_text("")
    (root / "bin.md").write_bytes(b"\x00\x01\x02\x03" * 100)
    (root / "bad.pdf").write_bytes(b"%PDF-1.7 truncated")
    report = engine.ingest([str(root), str(tmp_path / "missing.md"), "ftp://example.org/x"], actor="mod:1")
    assert report.count("added") == 1
    reasons = {item.source.rsplit("/", 1)[-1]: item.reason for item in report.failed}
    assert reasons["empty.md"] == "empty file"
    assert "binary" in reasons["bin.md"] and "PDF" in reasons["bad.pdf"]
    assert "no such file" in reasons["missing.md"] and "http" in reasons["x"]


def test_oversized_file_is_refused(tmp_path):
    engine = Engine(load_settings(db_path=tmp_path / "kb.db", embedder="hash", max_file_mb=0.01))
    big = tmp_path / "big.md"
    big.write_text("word " * 10000)
    report = engine.ingest([str(big)], actor="mod:1")
    assert report.failed and "larger than" in report.failed[0].reason


def test_stats(engine, docs):
    engine.ingest([str(docs)], actor="mod:1")
    stats = engine.stats()
    assert stats["documents"] == 2 and stats["chunks"] >= 2 and stats["last_update"]
    assert json.dumps(stats)


def test_stored_answer_comes_back_with_its_passages(engine, docs):
    engine.ingest([str(docs)], actor="mod:1")
    answer = engine.ask("what is the take rate on USDC leases?")
    again = engine.get_answer(answer.answer_id)
    assert again.answer == answer.answer and again.question == answer.question
    assert [s.path for s in again.sources] == [s.path for s in answer.sources]
    assert again.sources[0].snippet and "20%" in again.sources[0].snippet
    assert engine.get_answer("no-such-id") is None


def test_subnet_shorthand_is_written_out_for_retrieval_and_kept_in_the_answer(engine, tmp_path):
    """'what does sn23 produce?': the pages say 'Subnet 23', which BM25 and the embedding match and 'sn23'
    they do not; the answer still carries the question as asked."""
    from knowledge.text import spelled_out

    assert spelled_out("what does SN23 produce? and sn 9, SN-121?") == \
        "what does subnet 23 produce? and subnet 9, subnet 121?"
    assert spelled_out("snapshot 23 of the chain, isn23") == "snapshot 23 of the chain, isn23"

    root = tmp_path / "subnets"
    root.mkdir()
    (root / "subnet-23.md").write_text("---\nprotocol: bittensor\ntitle: Subnet 23\n---\n# Subnet 23\n\n"
                                       "## Description\nSubnet 23 generates images from text prompts.\n")
    (root / "subnet-1.md").write_text("---\nprotocol: bittensor\ntitle: Subnet 1\n---\n# Subnet 1\n\n"
                                      "## Description\nSubnet 1 rewards miners for the best prompt completions.\n")
    engine.ingest([str(root)], actor="mod:1")
    answer = engine.ask("what kind of output does sn23 produce?", log_gap=False)
    assert answer.question == "what kind of output does sn23 produce?"
    assert answer.sources[0].path == "subnet-23.md"
    # "sn23" alone is a word no page uses: the question looked unanswerable and was declined
    assert not answer.declined and answer.answer.startswith("Subnet 23 generates images")


def test_a_proposal_numbered_in_its_front_matter_is_titled_and_found_by_that_number(engine, tmp_path):
    """Akash's AEP pages say 'aep: 32' in their front matter and never 'AEP-32' in their text, yet people ask
    'what was AEP-32 trying to fix?': the number joins the title, so the page is cited, found and counted as
    naming the identifier (it was declined as an unknown identifier)."""
    root = tmp_path / "aeps"
    root.mkdir()
    (root / "aep-32.md").write_text(
        "---\naep: 32\ntitle: \"Akash Provider Console 1.0\"\n---\n\n## Motivation\n\nMake provider set up "
        "easy, with the goal of onboarding hundreds of new providers who self-serve with little to no "
        "support.\n")
    (root / "aep-33.md").write_text("---\naep: 33\ntitle: Escrow Balance Alerts\n---\n\n## Motivation\n\n"
                                    "Users get an email before a deployment runs out of escrow funds.\n")
    engine.ingest([str(root)], actor="mod:1")
    titles = {d["key"]: d["title"] for d in engine.list_documents()}
    assert titles == {"aep-32.md": "AEP-32: Akash Provider Console 1.0",
                      "aep-33.md": "AEP-33: Escrow Balance Alerts"}
    answer = engine.ask("what was the provider console AEP-32 trying to make easy?", log_gap=False)
    assert answer.sources[0].path == "aep-32.md" and answer.sources[0].title.startswith("AEP-32")
    assert not answer.declined and "onboarding hundreds of new providers" in answer.answer

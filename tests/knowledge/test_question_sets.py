"""The extra question sets (benchmarks/questions/check.jsonl, probe_a.jsonl to probe_i.jsonl, and
article.jsonl about the mission article) keep the shared eval format and their gold answers can be found in
the corpus: a broken line or a stale source would silently skew their figures."""

import json
from pathlib import Path

import pytest

from knowledge.evaluation import load_questions

SETS = Path(__file__).resolve().parents[2] / "benchmarks" / "questions"
CHECK = SETS / "check.jsonl"
ARTICLE = SETS / "article.jsonl"
PROBES = [SETS / f"probe_{name}.jsonl" for name in "abcdefghi"]


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def test_the_check_set_has_the_eval_format():
    questions = load_questions(CHECK)
    assert len(questions) == 60 and len({q["id"] for q in questions}) == 60
    answerable = [q for q in questions if q["answerable"]]
    assert len(answerable) == 48
    for q in answerable:
        assert q["answer_any"] and q["sources"] and q["kind"] in {"lexical", "paraphrase", "numeric"}
    for q in questions:
        if not q["answerable"]:
            assert q["kind"] in {"near-miss", "off-topic", "future", "opinion-bait"}


@pytest.mark.parametrize("question_file", PROBES, ids=[p.stem for p in PROBES])
def test_each_probe_set_has_the_dev_sets_mix(question_file):
    """50 questions as dev has them: 40 answerable (15 Akash, 15 Bittensor, 10 Render) and 10 not."""
    questions = load_questions(question_file)
    assert len(questions) == 50 and len({q["id"] for q in questions}) == 50
    answerable = [q for q in questions if q["answerable"]]
    assert len(answerable) == 40
    assert sorted(q["protocol"] for q in answerable).count("akash") == 15
    assert sorted(q["protocol"] for q in answerable).count("bittensor") == 15
    for q in answerable:
        assert q["answer_any"] and q["sources"] and q["kind"] in {"lexical", "paraphrase", "numeric"}
    for q in questions:
        if not q["answerable"]:
            assert q["kind"] in {"near-miss", "off-topic", "future", "opinion-bait"}


def test_no_question_is_asked_in_two_sets():
    texts = [_norm(q["question"]) for f in [CHECK, ARTICLE, *PROBES] for q in load_questions(f)]
    ids = [q["id"] for f in [CHECK, ARTICLE, *PROBES] for q in load_questions(f)]
    assert len(set(texts)) == len(texts) and len(set(ids)) == len(ids)


def test_the_article_set_asks_only_answerable_questions_about_the_article():
    questions = load_questions(ARTICLE)
    assert len(questions) == 10 and len({q["id"] for q in questions}) == 10
    assert all(q["answerable"] and q["sources"] == ["seed/decentralized-compute-2023-08-31.txt"] for q in questions)


@pytest.mark.parametrize("question_file", [CHECK, ARTICLE, *PROBES],
                         ids=[p.stem for p in (CHECK, ARTICLE, *PROBES)])
def test_every_gold_answer_is_in_one_of_its_sources(corpus, question_file):
    manifest = {line.split("\t")[0] for line in (corpus / "MANIFEST.tsv").read_text().splitlines()[1:]}
    for line in question_file.read_text().splitlines():
        q = json.loads(line)
        if not q["answerable"]:
            continue
        assert set(q["sources"]) <= manifest, q["id"]
        texts = [_norm((corpus / s).read_text(errors="replace")) for s in q["sources"]]
        assert any(_norm(a) in t for a in q["answer_any"] for t in texts), q["id"]

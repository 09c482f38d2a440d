"""The second question set (benchmarks/questions/check.jsonl) keeps the shared eval format and its gold
answers can be found in the corpus: a broken line or a stale source would silently skew its figures."""

import json
from pathlib import Path

from knowledge.evaluation import load_questions

CHECK = Path(__file__).resolve().parents[2] / "benchmarks" / "questions" / "check.jsonl"


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


def test_every_gold_answer_is_in_one_of_its_sources(corpus):
    manifest = {line.split("\t")[0] for line in (corpus / "MANIFEST.tsv").read_text().splitlines()[1:]}
    for line in CHECK.read_text().splitlines():
        q = json.loads(line)
        if not q["answerable"]:
            continue
        assert set(q["sources"]) <= manifest, q["id"]
        texts = [_norm((corpus / s).read_text(errors="replace")) for s in q["sources"]]
        assert any(_norm(a) in t for a in q["answer_any"] for t in texts), q["id"]

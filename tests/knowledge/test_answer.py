"""Sentence selection and arrangement of extractive answers (no model: scores are set by hand)."""

from knowledge.answer import Candidate, _select, section_label


def cand(text: str, doc: int, passage: int, order: int, score: float) -> Candidate:
    return Candidate(text=text, doc_rank=doc, passage_rank=passage, order=order, score=score)


def test_the_passage_holding_the_best_sentence_comes_first_and_keeps_its_order():
    cands = [
        cand("An intro sentence of the first document.", 0, 0, 0, 0.50),
        cand("A second sentence of the first document.", 0, 0, 1, 0.45),
        cand("Context that comes before the answer here.", 1, 0, 0, 0.60),
        cand("The answer itself, the best sentence of all.", 1, 0, 1, 0.70),
    ]
    chosen = [c.text for c in _select(cands)]
    # the best sentence's passage leads; inside it, document order (context, then the answer)
    assert chosen[:2] == [cands[2].text, cands[3].text]
    assert chosen[2:] == [cands[0].text, cands[1].text]


def test_sentences_far_below_the_best_are_left_out():
    cands = [cand("The strong answer sentence is this one.", 0, 0, 0, 0.9),
             cand("A weak and unrelated sentence of filler.", 0, 1, 0, 0.5)]
    assert [c.text for c in _select(cands)] == [cands[0].text]


def test_nothing_is_selected_from_unscored_candidates():
    assert _select([cand("Never scored because it was too short.", 0, 0, 0, -1.0)]) == []


def test_section_label_drops_the_repeated_title():
    assert section_label("Take rates", "Take rates > USDC leases") == "USDC leases"
    assert section_label("Take rates", "Take rates") == ""
    assert section_label("Take rates", "Fees") == "Fees"

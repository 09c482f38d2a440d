"""Which sources an answer cites: the rule the CLI, the console chat and Discord all show sources by."""

from knowledge.results import Answer, Source, cited_ranks


def _answer(text: str, n: int = 4) -> Answer:
    return Answer(question="q", answer=text, declined=False, confidence=0.9,
                  sources=[Source(rank=i, path=f"doc{i}.md", title=f"Doc {i}") for i in range(1, n + 1)])


def test_cited_ranks_reads_single_lists_and_runs():
    assert cited_ranks("one [1] two [2, 4] three [5-7] four [3–3]") == {1, 2, 3, 4, 5, 6, 7}
    assert cited_ranks("no markers, [x] and [] are not markers") == set()
    assert cited_ranks("") == set()


def test_cited_sources_keeps_rank_order_and_only_cited():
    answer = _answer("B is true [3]. A is true [1].")
    assert [s.rank for s in answer.cited_sources()] == [1, 3]


def test_cited_sources_falls_back_to_all_when_nothing_is_cited():
    answer = _answer("An answer without markers.")
    assert [s.rank for s in answer.cited_sources()] == [1, 2, 3, 4]


def test_a_marker_beyond_the_sources_cites_nothing_extra():
    answer = _answer("Stray [9] and real [2].", n=2)
    assert [s.path for s in answer.cited_sources()] == ["doc2.md"]

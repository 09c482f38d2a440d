"""Rendering within Discord's limits, without Discord."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord_bot import render
from knowledge.results import Answer, Source

MARKER = re.compile(r"\[\d+\]")


def _answer(text: str, n_sources: int = 3, **kw) -> Answer:
    sources = [Source(rank=i, path=f"doc{i}.md", title=f"Doc {i}", section=f"Top > Section {i}",
                      url=f"https://example.org/{i}", date="2024-05-01", snippet="passage " * 50)
               for i in range(1, n_sources + 1)]
    return Answer(question="How does it work?", answer=text, declined=False, confidence=0.8, sources=sources,
                  answer_id="abc123", protocol="akash", **kw)


def test_short_text_untouched():
    assert render.trim("One sentence. [1]", 100) == "One sentence. [1]"


def test_trim_ends_at_sentence_keeping_its_markers():
    text = "First claim is here. [1] Second claim follows. [2] Third claim is long " + "x" * 200 + ". [3]"
    out = render.trim(text, 60)
    assert len(out) <= 60
    assert out.startswith("First claim is here. [1] Second claim follows. [2]")
    assert out.endswith(render.ELLIPSIS)


def test_trim_keeps_marker_before_the_full_stop():
    text = "Akash leases pay in USDC [1]. Providers bid in auctions [2]. " + "More text here. " * 40
    out = render.trim(text, 70)
    assert "[1]" in out and "[2]" in out and len(out) <= 70


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.text(alphabet="abc de", min_size=1, max_size=80), st.integers(1, 12),
                       st.sampled_from([". ", "! ", "? ", " "])), min_size=1, max_size=30),
    st.integers(10, 600),
)
def test_trim_never_exceeds_limit_nor_cuts_a_marker(parts, limit):
    text = "".join(f"{words} [{n}]{end}" for words, n, end in parts)
    out = render.trim(text, limit)
    assert len(out) <= limit
    # every "[" that opens a marker in the output is closed: no half marker like "[1" at the end
    assert not re.search(r"\[\d*$", out.rstrip(render.ELLIPSIS).rstrip())
    for m in re.finditer(r"\[(\d*)", out):
        assert out[m.end():m.end() + 1] == "]", out


def test_answer_embed_within_all_limits_for_huge_answers():
    text = " ".join(f"Sentence number {i} says something useful [{i % 9 + 1}]." for i in range(600))
    answer = _answer(text, n_sources=40)
    answer.sources = [Source(rank=i, path=f"p{i}", title="T" * 300, section="S" * 300, url="https://x.org/" + "u" * 200)
                      for i in range(1, 41)]
    embed = render.answer_embed(answer)
    assert len(embed) <= render.EMBED_TOTAL_LIMIT
    assert len(embed.description) <= render.DESCRIPTION_LIMIT
    assert len(embed.title) <= render.TITLE_LIMIT
    for f in embed.fields:
        assert len(f.value) <= render.FIELD_VALUE_LIMIT and len(f.name) <= render.FIELD_NAME_LIMIT
    assert not re.search(r"\[\d*$", embed.description.rstrip(render.ELLIPSIS).rstrip())


def test_answer_embed_has_sources_confidence_and_id():
    embed = render.answer_embed(_answer("Leases settle in USDC. [1] Providers bid. [2]"))
    fields = {f.name: f.value for f in embed.fields}
    assert "[1] Doc 1 — Section 1, 2024-05-01, https://example.org/1" in fields["Sources"]
    assert "[2] Doc 2" in fields["Sources"]
    assert "[3]" not in fields["Sources"]  # uncited sources stay for "More sources"
    assert fields["Confidence"].startswith("0.80")
    assert "abc123" in embed.footer.text


def test_decline_embed_is_polite_and_mentions_the_gap():
    answer = Answer(question="Who won in 1998?", answer="I don't have a sourced answer to that.", declined=True,
                    confidence=0.1)
    embed = render.answer_embed(answer)
    assert "logged" in (embed.description + embed.footer.text).lower()
    assert not embed.fields


def test_sources_embed_and_plain_text_within_limits():
    answer = _answer("A. [1] B. [2] C. [3]", n_sources=12)
    assert len(render.sources_embed(answer)) <= render.EMBED_TOTAL_LIMIT
    text = render.answer_text(_answer("Claim. [1] " * 400))
    assert len(text) <= render.CONTENT_LIMIT and "Sources:" in text


def test_lines_field_counts_what_it_left_out():
    out = render.lines_field([f"line {i} " + "z" * 80 for i in range(50)])
    assert len(out) <= render.FIELD_VALUE_LIMIT
    assert re.search(r"…and \d+ more$", out)

"""Parsing and chunking: markdown structure kept, noise removed, bad input refused with a clear reason."""

import io

import pytest

from knowledge.chunking import MAX_WORDS, chunk_text, sections
from knowledge.errors import IngestError
from knowledge.parsing import parse_bytes, parse_markdown
from knowledge.text import split_sentences

MDX = """---
title: "Emission"
date: 2025-05-01
---

import ThemedImage from '@theme/ThemedImage';

# Emission {#emission}

Emission allocates TAO to miners. See the [white paper](https://example.org/wp) for details.

<ThemedImage alt="x" sources={{light: 'a.png'}} />

{% hint style="info" %}
Subnet owners receive 18% of emissions.
{% endhint %}

:::tip
Validators set weights \\(every tempo\\).
:::

## Injection

<details><summary>More</summary>TAO is injected into reserves.</details>
"""


def test_markdown_front_matter_and_mdx_noise_are_removed():
    doc = parse_markdown(MDX)
    assert doc.title == "Emission"
    assert doc.date == "2025-05-01"
    assert "import " not in doc.text and "ThemedImage" not in doc.text
    assert "{% hint" not in doc.text and ":::" not in doc.text and "<details>" not in doc.text
    assert "Subnet owners receive 18% of emissions." in doc.text
    assert "white paper" in doc.text and "https://example.org" not in doc.text
    assert "(every tempo)" in doc.text  # markdown escapes undone
    assert "{#emission}" not in doc.text


def test_what_follows_an_admonition_or_anchor_is_kept_whole():
    # A closing ':::' once took the next non-blank line with it: FAQ headings, first sentences of paragraphs.
    doc = parse_markdown(MDX)
    assert "## Injection" in doc.text
    faq = parse_markdown(
        "# FAQ\n\n## General\n\n### Do subnets talk?\n\nThey do not.\n\n:::tip See also\nThe API page.\n:::\n\n"
        "## Mining and validation\n\n### Who validates the chain?\n\nThe Opentensor Foundation, on Proof-of-Authority.\n\n"
        ":::note\nA note.\n:::\nFirst sentence after the note. Second one.\n\n## Anchored {#anchor}\n\nBody.\n")
    names = [name for name, _ in sections(faq.text)]
    assert "FAQ > Mining and validation > Who validates the chain?" in names
    assert "First sentence after the note. Second one." in faq.text
    assert "## Anchored\n\nBody." in faq.text


def test_placeholders_in_inline_code_are_kept_while_tags_in_prose_go():
    doc = parse_markdown("# SDL\n\nSet `services.<name>.params` and run `provider-services tx <provider-address>`; "
                         "<b>bold</b> words and <Card title='x' /> stay readable.\n")
    assert "`services.<name>.params`" in doc.text and "`provider-services tx <provider-address>`" in doc.text
    assert "<b>" not in doc.text and "bold words" in doc.text and "<Card" not in doc.text


def test_html_entities_become_characters_in_prose_and_code():
    doc = parse_markdown("# Fees\n\nS&amp;P 500 clients &mdash; see <b>this</b> &lt;b&gt;\n\n```\nbtcli --key &lt;ss58&gt;\n```\n")
    assert "S&P 500 clients — see this <b>" in doc.text
    assert "btcli --key <ss58>" in doc.text and "&lt;" not in doc.text


def test_sections_keep_heading_paths_and_ignore_hashes_in_code():
    text = "# A\nintro\n## B\nbody b\n```\n# not a heading\n```\n### C\nbody c\n# D\nbody d"
    names = [name for name, _ in sections(text)]
    assert names == ["A", "A > B", "A > B > C", "D"]


def test_chunks_respect_the_size_bound_and_carry_sections():
    body = " ".join(f"Sentence number {i} says something about leases and providers." for i in range(200))
    chunks = chunk_text("# Title\n\n" + body + "\n\n## Other\n\nShort tail paragraph here.")
    assert len(chunks) > 5
    assert all(len(c.text.split()) <= MAX_WORDS + 40 for c in chunks)
    assert chunks[-1].section == "Title > Other"
    assert "Title — Title > Other" in chunks[-1].embedding_text("Title")


def test_sentence_splitter_keeps_numbers_and_abbreviations():
    s = split_sentences("The max supply is 3.89 times genesis, e.g. 388.5M AKT. Next sentence here. And v0.1.2 works.")
    assert s[0] == "The max supply is 3.89 times genesis, e.g. 388.5M AKT."
    assert len(s) == 3


@pytest.mark.parametrize(
    "data,name,reason",
    [
        (b"", "empty.md", "empty file"),
        (b"   \n\t ", "blank.txt", "empty file"),
        (b"\x00\x01\x02binary\x00", "blob.md", "binary"),
        (b"%PDF-1.4 this is not really a pdf", "broken.pdf", "not a readable PDF"),
        (b"hello", "image.png", "unsupported file type"),
    ],
)
def test_bad_files_get_one_clear_reason(data, name, reason):
    with pytest.raises(IngestError) as err:
        parse_bytes(data, name)
    assert reason in str(err.value) and name in str(err.value)


def test_non_utf8_text_is_decoded_and_noted():
    doc = parse_bytes("Akash café résumé — take rate".encode("cp1252", errors="replace"), "legacy.txt")
    assert "caf" in doc.text and doc.note.startswith("not UTF-8")


def test_html_main_text_is_extracted():
    html = ("<html><head><title>Take rate</title></head><body><nav>menu menu</nav><article><h1>Take rate</h1>"
            + "<p>The take rate on USDC leases is 20% according to the proposal text here.</p>" * 5
            + "</article></body></html>")
    doc = parse_bytes(html.encode(), "page.html")
    assert "20%" in doc.text
    assert doc.title == "Take rate"


def test_pdf_text_is_extracted():
    pypdf = pytest.importorskip("pypdf")
    from pypdf.generic import NameObject

    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    # A PDF with no text layer is refused with a reason, not a traceback.
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(IngestError, match="no extractable text"):
        parse_bytes(buf.getvalue(), "scan.pdf")
    assert NameObject  # imported for clarity of the pypdf dependency


_ARTICLE_LINE = ("Akash Network's AKT token serves as the primary medium of exchange on its decentralized cloud "
                 "marketplace, and providers stake it to offer compute while tenants pay for usage with it.")


def test_a_plain_text_article_with_a_paragraph_per_line_gets_its_headings_as_sections():
    text = "\n".join([
        "The decentralized compute sector has emerged as the hottest narrative of the year, and three protocols "
        "stand at the forefront of the race for GPU computing power in this market.",
        "Token Utility",
        _ARTICLE_LINE,
        "Potential Bottlenecks",
        "Akash must solve the chicken-and-egg problem of building sufficient GPU supply before demand "
        "materializes at scale, which is the hardest part of any two-sided marketplace.",
        "they are complementary not competitive. render handles gpu rendering, akash is generic compute.",
    ])
    doc = parse_bytes(text.encode(), "article.txt")
    chunks = chunk_text(doc.text)
    by_section = {c.section: c.text for c in chunks}
    assert by_section["Token Utility"].startswith("Akash Network's AKT token")
    assert "chicken-and-egg" in by_section["Potential Bottlenecks"]
    # a heading is never glued to the sentence after it, and it is not taken for the document's title
    assert not any("Token Utility Akash" in s for c in chunks for s in split_sentences(c.text))
    assert doc.title == ""


def test_hard_wrapped_or_markdown_text_files_keep_their_own_structure():
    wrapped = "Token Utility\n" + "\n".join(["Akash Network's AKT token serves as the primary medium of"] * 6)
    assert parse_bytes(wrapped.encode(), "notes.txt").text == parse_markdown(wrapped).text
    markdown = "# Notes\n\nToken Utility\n" + _ARTICLE_LINE + "\n" + _ARTICLE_LINE
    assert parse_bytes(markdown.encode(), "notes.txt").text == parse_markdown(markdown).text
    # the same one-paragraph-per-line text in a .md file is markdown: its author chose the structure
    article = "Token Utility\n" + _ARTICLE_LINE + "\n" + _ARTICLE_LINE
    assert parse_bytes(article.encode(), "article.md").text == parse_markdown(article).text


def test_a_heading_written_as_a_plain_line_is_not_glued_to_the_next_sentence():
    text = "Technical Integration Details\nWe propose that a working group is granted 50K RENDER tokens."
    assert split_sentences(text) == ["Technical Integration Details",
                                     "We propose that a working group is granted 50K RENDER tokens."]
    # a wrapped sentence goes on across the line break, even when the next line starts with a name
    wrapped = "The network is run by the\nRender Network Foundation, which pays the node operators."
    assert split_sentences(wrapped) == ["The network is run by the Render Network Foundation, which pays the node operators."]
    # a line in the middle of a paragraph is not a heading: the sentence before it has not ended
    middle = "Rewards are paid to operators of\nNodes And Clusters\nThat stay online for the whole epoch."
    assert len(split_sentences(middle)) == 1


def test_a_proposal_number_from_front_matter_joins_the_title_once():
    from knowledge.parsing import numbered_title

    assert numbered_title("Akash Provider Console 1.0", {"aep": "32"}) == "AEP-32: Akash Provider Console 1.0"
    # a title that already names it keeps its own form
    assert numbered_title("RNP-014: Blender Cycles", {"rnp": "14"}) == "RNP-014: Blender Cycles"
    assert numbered_title("AEP 7 notes", {"aep": "007"}) == "AEP 7 notes"
    assert numbered_title("", {"aep": "5"}) == "AEP-5"
    assert numbered_title("Take rates", {"protocol": "akash", "aep": "draft"}) == "Take rates"

"""Turn a file's bytes into clean markdown-ish text plus metadata (title, date, protocol from front matter).

Handles .md/.mdx/.txt (front matter, MDX imports and components, Docusaurus/GitBook blocks), .html (main
text via trafilatura) and .pdf (pypdf). Bad input raises `IngestError` with one short reason.
"""

from __future__ import annotations

import io
import logging
import html
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from knowledge.errors import IngestError
from knowledge.text import looks_like_heading

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".md", ".mdx", ".markdown", ".txt", ".text", ".rst"}
PLAIN_TEXT_SUFFIXES = {".txt", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
_DATE_RE = re.compile(r"(20\d\d-[01]\d-[0-3]\d)")


@dataclass
class ParsedDocument:
    """Clean text of one document and what it says about itself."""

    text: str
    title: str = ""
    date: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    note: str = ""  # e.g. "decoded as cp1252": shown beside a successful ingest


def parse_bytes(data: bytes, name: str, content_type: str = "") -> ParsedDocument:
    """Parse one file's bytes; `name` is used for the suffix and in error messages."""
    if not data or not data.strip():
        raise IngestError(name, "empty file")
    suffix = PurePosixPath(name.lower()).suffix
    if "pdf" in content_type or suffix in PDF_SUFFIXES or data[:5] == b"%PDF-":
        doc = _parse_pdf(data, name)
    elif "html" in content_type or suffix in HTML_SUFFIXES:
        doc = _parse_html(_decode(data, name)[0], name)
    elif suffix in TEXT_SUFFIXES or content_type.startswith("text/") or not suffix:
        text, note = _decode(data, name)
        if suffix in PLAIN_TEXT_SUFFIXES:
            text = plain_text_structure(text)
        doc = parse_markdown(text)
        doc.note = note
    else:
        raise IngestError(name, f"unsupported file type {suffix!r} (use .md, .mdx, .txt, .html or .pdf)")
    if not doc.date:
        match = _DATE_RE.search(name)
        doc.date = match.group(1) if match else ""
    if len(doc.text.strip()) < 2:
        raise IngestError(name, "no text to index after cleaning")
    return doc


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """Text from bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else a detected legacy charset."""
    head = data[:8192]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "decoded as UTF-16"
        except UnicodeDecodeError:
            raise IngestError(name, "starts like UTF-16 text but is not valid UTF-16") from None
    if b"\x00" in head or _control_ratio(head) > 0.10:
        raise IngestError(name, "binary file, not text")
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
    except Exception:  # detection is best effort
        best = None
    if best is not None and best.encoding:
        return str(best), f"not UTF-8; decoded as {best.encoding}"
    return data.decode("latin-1"), "not UTF-8; decoded as latin-1"


def _control_ratio(chunk: bytes) -> float:
    if not chunk:
        return 0.0
    bad = sum(1 for b in chunk if b < 32 and b not in (9, 10, 12, 13))
    return bad / len(chunk)


def _parse_pdf(data: bytes, name: str) -> ParsedDocument:
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        pages = [(page.extract_text() or "") for page in reader.pages]
        title = ""
        if reader.metadata and reader.metadata.title:
            title = str(reader.metadata.title)
    except Exception as exc:  # pypdf raises many types for broken files
        raise IngestError(name, f"not a readable PDF ({type(exc).__name__})") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise IngestError(name, "PDF has no extractable text (scanned images?)")
    return ParsedDocument(text=_tidy(text), title=title.strip())


def _parse_html(html: str, name: str) -> ParsedDocument:
    import trafilatura

    try:
        text = trafilatura.extract(html, output_format="markdown", include_tables=True, include_links=False)
        meta = trafilatura.extract_metadata(html)
    except Exception as exc:
        raise IngestError(name, f"could not read HTML ({type(exc).__name__})") from None
    if not text:
        raise IngestError(name, "HTML page has no main text")
    title = (meta.title if meta and meta.title else "") or ""
    date = (meta.date if meta and meta.date else "") or ""
    return ParsedDocument(text=_tidy(text), title=title.strip(), date=date[:10])


# -- markdown / MDX cleaning -----------------------------------------------------------------------
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_MDX_IMPORT = re.compile(r"^(?:import|export)\s.*?$", re.M)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_LIQUID = re.compile(r"\{%-?\s*(?:end)?[a-z_]+[^%]*%\}")  # GitBook {% hint %} ... {% endhint %}
# Docusaurus ":::note Title" / ":::". [ \t], never \s: \s would run past the line end and take the next line
# (a heading, or a paragraph's first sentence) with the closing ":::".
_ADMONITION = re.compile(r"^:::[ \t]*\w*.*$", re.M)
_JSX_SELF_CLOSING = re.compile(r"<[A-Z][\w.]*(?:\s[^<>]*)?/>")
_INLINE_CODE = re.compile(r"(`[^`\n]+`)")
_TAG = re.compile(r"</?[A-Za-z][\w.:-]*(?:\s[^<>]*)?/?>")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_JSX_EXPR = re.compile(r"\{/\*.*?\*/\}", re.S)
_HEADING_ANCHOR = re.compile(r"[ \t]*\{#[\w-]+\}[ \t]*$", re.M)
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!=|<>~$&])")


def plain_text_structure(text: str) -> str:
    """Paragraphs and headings of a plain-text file, written the markdown way the chunker reads.

    An article saved as text often has one paragraph per line, no blank lines, and its headings as short
    lines of their own ("Token Utility"). Read as markdown, the whole file was one paragraph: each heading was
    glued to the sentence after it ("Token Utility Akash Network's AKT token serves...") and no chunk had a
    section. Files that already use markdown headings or blank lines between paragraphs are left as they are;
    so are hard-wrapped files (short lines), whose single newlines are not paragraph breaks.
    """
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    filled = [line for line in lines if line.strip()]
    if not filled or any(re.match(r"#{1,6}\s", line) for line in filled):
        return text
    blank_breaks = sum(1 for a, b in zip(lines, lines[1:]) if a.strip() and not b.strip())
    long_lines = sum(1 for line in filled if len(line) > 120)  # hard-wrapped text stays within ~80 columns
    if blank_breaks > len(filled) // 4 or long_lines < len(filled) // 3:
        return text
    out = []
    for i, line in enumerate(filled):
        following = filled[i + 1] if i + 1 < len(filled) else ""
        if looks_like_heading(line) and len(following.split()) >= 20:
            out.append(f"### {line.strip()}")  # not "#"/"##": those would be taken for the title
        else:
            out.append(line)
    return "\n\n".join(out)


def parse_markdown(text: str) -> ParsedDocument:
    """Strip front matter and MDX/HTML noise; keep headings, lists, tables and code."""
    meta: dict[str, str] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        meta = _front_matter(match.group(1))
        text = text[match.end() :]
    text = _clean_markdown(text)
    # GitBook/Docusaurus put a page's summary in its front matter; it is text readers see, so keep it.
    summary = " ".join((meta.get("description") or meta.get("summary") or "").split())
    if len(summary) >= 20 and summary not in text:
        text = _insert_after_title(text, summary)
    title = meta.get("title", "") or _first_heading(text)
    date = ""
    for key in ("date", "as_of", "last_updated", "updated", "created"):
        found = _DATE_RE.search(meta.get(key, ""))
        if found:
            date = found.group(1)
            break
    return ParsedDocument(text=text, title=strip_inline(title), date=date, meta=meta)


# Front-matter fields that number a proposal ("aep: 32"): the page is known as "AEP-32", though its text may
# never say so (Akash's AEP pages do not), and people ask by that name.
_PROPOSAL_FIELDS = ("aep", "rnp", "bip", "eip", "sip", "tip", "cip")


def numbered_title(title: str, meta: dict[str, str]) -> str:
    """'AEP-32: Akash Provider Console 1.0' for a page whose front matter says `aep: 32`, unless the title
    already names it (as Render's 'RNP-014: ...' titles do); any other title unchanged."""
    for field_name in _PROPOSAL_FIELDS:
        value = str(meta.get(field_name, "")).strip()
        if not value.isdigit():
            continue
        number = int(value)
        if re.search(rf"\b{field_name}[\s#:_-]*0*{number}\b", title, re.I):
            return title
        return f"{field_name.upper()}-{number}: {title}" if title else f"{field_name.upper()}-{number}"
    return title


def _front_matter(block: str) -> dict[str, str]:
    try:
        import yaml

        data = yaml.safe_load(block)
    except Exception:
        data = None
    if not isinstance(data, dict):  # fall back to 'key: value' lines
        data = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() and not key.startswith((" ", "\t")):
                data[key.strip()] = value.strip().strip("'\"")
    return {str(k).lower(): "" if v is None else str(v) for k, v in data.items() if not isinstance(v, (dict, list))}


def _clean_markdown(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts = re.split(r"(^```.*?^```[ \t]*$)", text, flags=re.M | re.S)  # leave fenced code alone
    cleaned = []
    for i, part in enumerate(parts):
        if i % 2 == 1:
            # Docs exported from HTML carry entities even inside code (`&lt;ss58_address&gt;`); readers and
            # answers want the characters.
            cleaned.append(html.unescape(part))
            continue
        part = _HTML_COMMENT.sub("", part)
        part = _JSX_EXPR.sub("", part)
        part = _MDX_IMPORT.sub("", part)
        part = _LIQUID.sub("", part)
        part = _ADMONITION.sub("", part)
        part = _outside_inline_code(_JSX_SELF_CLOSING, part)
        part = _IMAGE.sub(lambda m: m.group(1), part)
        part = _LINK.sub(lambda m: m.group(1), part)
        part = _outside_inline_code(_TAG, part)
        part = _HEADING_ANCHOR.sub("", part)
        part = _MD_ESCAPE.sub(r"\1", part)
        cleaned.append(html.unescape(part))  # after tags are gone, so '&lt;b&gt;' stays visible text
    return _tidy("".join(cleaned))


def _outside_inline_code(tag: re.Pattern, text: str) -> str:
    """Remove HTML/JSX tags except inside `inline code`, where `<provider-address>` or `services.<name>`
    is a placeholder the reader needs, not markup."""
    pieces = _INLINE_CODE.split(text)
    return "".join(piece if i % 2 else tag.sub("", piece) for i, piece in enumerate(pieces))


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _insert_after_title(text: str, paragraph: str) -> str:
    """Put a paragraph after the leading H1 (or at the top when there is none)."""
    match = re.match(r"\s*#\s+[^\n]*\n", text)
    if match:
        return text[: match.end()] + "\n" + paragraph + "\n\n" + text[match.end() :].lstrip("\n")
    return paragraph + "\n\n" + text


def _first_heading(text: str) -> str:
    match = re.search(r"^#{1,2}\s+(.+)$", text, re.M)
    return match.group(1).strip() if match else ""


def strip_inline(text: str) -> str:
    """Drop markdown emphasis and code ticks from a short string (titles, headings)."""
    text = re.sub(r"[*_`]{1,3}([^*_`]+)[*_`]{1,3}", r"\1", text or "")
    return re.sub(r"\s+", " ", text).strip().strip("#").strip()

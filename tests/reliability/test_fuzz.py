"""Bad input across the board, driven by hypothesis: a clear error or a normal result, never a traceback
(raised, or logged), never a corrupted store.

Ingestion (`Engine.ingest_bytes`/`ingest_text`): random bytes, huge lines, deeply nested markdown, odd
encodings (UTF-16 with and without BOM, broken surrogates, latin-1, cp1252, shift-jis, mixed), broken PDFs.
Each call returns a report with one item (added/updated/unchanged, or failed with a reason) or raises a
`ComputeDeskError`. Questions (`Engine.ask`): random unicode (lone surrogates included, as a command line
with non-UTF-8 bytes produces) and injection-looking text (SQL, FTS5 syntax): an Answer or `BadInputError`.
Documents full of SQL/FTS5 syntax are found again by a question quoting that syntax.
After every test the store passes `PRAGMA integrity_check`, the FTS5 integrity check, and every document is
whole.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.config import load_settings
from knowledge.engine import Engine
from knowledge.errors import BadInputError, ComputeDeskError
from knowledge.results import Answer

FIGURES = {"inputs": 0, "ingest_failed_with_reason": 0, "questions_refused": 0}
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
OK_STATUSES = {"added", "updated", "unchanged", "failed"}


@pytest.fixture
def engine(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPUTE_DESK_METRICS_ON_ASK", "0")  # never reach for the network
    eng = Engine(load_settings(db_path=tmp_path / "fuzz.db"))
    eng.ensure_starter_pack()
    yield eng
    assert_store_whole(eng)


@pytest.fixture(autouse=True)
def no_logged_tracebacks(caplog):
    """A swallowed exception logged with its traceback is a traceback too (the CLI prints it)."""
    caplog.set_level(logging.WARNING)
    yield
    tracebacks = [r for r in caplog.get_records("call") + caplog.get_records("setup") if r.exc_info]
    assert not tracebacks, [f"{r.name}: {r.getMessage()}: {r.exc_info[1]!r}" for r in tracebacks[:3]]


def assert_store_whole(engine: Engine) -> None:
    conn = engine.store.conn
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('integrity-check')")
    bad = conn.execute(
        "SELECT d.key, d.chunk_count, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id) AS n"
        " FROM documents d WHERE d.chunk_count != n OR n = 0").fetchall()
    assert bad == []
    assert conn.execute("SELECT count(*) FROM chunks").fetchone()[0] == \
        conn.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
    assert conn.execute("SELECT count(*) FROM documents WHERE key LIKE 'pack/%'").fetchone()[0] >= 3


def ingest_ok(engine: Engine, data: bytes, name: str) -> None:
    FIGURES["inputs"] += 1
    try:
        report = engine.ingest_bytes(data, name, "fuzz:moderator")
    except ComputeDeskError as exc:
        assert str(exc)
        return
    assert len(report.items) == 1, report.items
    item = report.items[0]
    assert item.status in OK_STATUSES
    if item.status == "failed":
        FIGURES["ingest_failed_with_reason"] += 1
        assert item.reason and "Traceback" not in item.reason and "\n" not in item.reason
    else:
        row = engine.store.conn.execute("SELECT chunk_count, status FROM documents WHERE key=?",
                                        (item.key,)).fetchone()
        assert row is not None and row[0] > 0 and row[1] == "active"


def ask_ok(engine: Engine, question: str) -> Answer | None:
    FIGURES["inputs"] += 1
    try:
        answer = engine.ask(question, asker="fuzz")
    except BadInputError as exc:
        FIGURES["questions_refused"] += 1
        assert str(exc) and "Traceback" not in str(exc)
        return None
    assert isinstance(answer, Answer) and isinstance(answer.answer, str) and answer.answer
    assert 0.0 <= answer.confidence <= 1.0
    answer.to_json()
    return answer


NAMES = st.sampled_from(["a.md", "a.txt", "a.mdx", "a.html", "a.pdf", "a", "a.bin", "../../etc/passwd",
                         "dir/ü name.md", "a.md\x00.pdf", "", "odd\udcff.md", "\ud800.txt"])


# -- ingestion -------------------------------------------------------------------------------------
@FUZZ
@given(data=st.binary(max_size=4000), name=NAMES)
def test_random_bytes(engine, data, name):
    ingest_ok(engine, data, name)


def _nested(depth: int, kind: str) -> str:
    if kind == "quote":
        return ">" * depth + " deep quote about akash leases\n"
    if kind == "list":
        return "".join("  " * i + "- level %d item on render jobs\n" % i for i in range(depth))
    if kind == "heading":
        return "".join("#" * (i % 6 + 1) + " heading %d\n\nbody text %d about subnets\n\n" % (i, i) for i in range(depth))
    if kind == "brackets":
        return "[" * depth + "link text" + "](" * depth + "http://x" + ")" * depth + "\n"
    if kind == "html":
        return "<div>" * depth + "inner text about gpu markets" + "</div>" * depth
    if kind == "fences":
        return "```\ncode\n" * depth + "tail text about tao emissions"
    if kind == "jsx":
        return "<Tabs>" * depth + "{/* c */}" * depth + "<Tab value='x'/>" * depth + " text about leases"
    return "---\ntitle: [unclosed\n" + "key: value\n" * depth + "---\n# Body\n\nsome text about providers"


TEXT_DOCS = st.one_of(
    # huge single lines, with and without spaces
    st.builds(lambda w, n: (w + " ") * n, st.text(min_size=1, max_size=12), st.integers(1000, 40000)),
    st.builds(lambda c, n: c * n, st.characters(), st.integers(10_000, 300_000)),
    # deeply nested markdown
    st.builds(_nested, st.integers(1, 3000), st.sampled_from(
        ["quote", "list", "heading", "brackets", "html", "fences", "jsx", "frontmatter"])),
    # plain random unicode
    st.text(max_size=3000),
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1",
                             "cp1252", "shift_jis", "koi8-r", "mixed"])


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "mixed":  # half UTF-8, half latin-1
        half = len(text) // 2
        return text[:half].encode("utf-8", "surrogatepass") + text[half:].encode("latin-1", "replace")
    return text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")


@FUZZ
@given(text=TEXT_DOCS, encoding=ENCODINGS, name=st.sampled_from(["doc.md", "doc.txt", "doc.html", "doc"]))
def test_text_shapes_and_encodings(engine, text, encoding, name):
    ingest_ok(engine, _encode(text, encoding), name)


@FUZZ
@given(st.sampled_from([b"\xff\xfe\x00\xd8a\x00", b"\xfe\xff\xdc\x00\x00a", b"\xff\xfe" + "ok text".encode("utf-16-le") + b"\x00\xdc",
                        b"\xef\xbb\xbf\xed\xa0\x80 surrogate in utf-8", b"text \xc3\x28 broken utf-8 about akash"]),
       st.binary(max_size=64))
def test_broken_encodings(engine, head, tail):
    ingest_ok(engine, head + tail, "odd.md")


def _pdf(text: str) -> bytes:
    """A small valid one-page PDF showing `text`."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


GOOD_PDF = _pdf("Akash providers settle leases in escrow every block")


def test_the_pdf_generator_makes_a_readable_pdf(engine):
    report = engine.ingest_bytes(GOOD_PDF, "good.pdf", "fuzz:moderator")
    assert report.items[0].status == "added", report.items
    text = engine.store.conn.execute("SELECT group_concat(text) FROM chunks c JOIN documents d ON d.id = c.document_id"
                                     " WHERE d.key = 'upload/good.pdf'").fetchone()[0]
    assert "escrow" in text


@FUZZ
@given(
    cut=st.integers(0, len(GOOD_PDF)),
    flips=st.lists(st.tuples(st.integers(0, len(GOOD_PDF) - 1), st.integers(0, 255)), max_size=12),
    junk=st.binary(max_size=200),
    mode=st.sampled_from(["truncate", "flip", "junk-body", "compressed-garbage", "header-only"]),
)
def test_broken_pdfs(engine, cut, flips, junk, mode):
    data = bytearray(GOOD_PDF)
    if mode == "truncate":
        data = data[:cut]
    elif mode == "flip":
        for pos, value in flips:
            data[pos] = value
    elif mode == "junk-body":
        data = data[:cut] + junk + data[cut:]
    elif mode == "compressed-garbage":
        data = bytearray(GOOD_PDF.replace(b"<< /Length", b"<< /Filter /FlateDecode /Length")) + zlib.compress(junk)
    else:
        data = bytearray(b"%PDF-1.7\n" + junk)
    ingest_ok(engine, bytes(data), "broken.pdf")


# -- questions -------------------------------------------------------------------------------------
INJECTIONS = [
    "'; DROP TABLE documents; --", "\" OR 1=1 --", "akash\" OR \"1\"=\"1", "NEAR(akash render, 2)", "akash NEAR render",
    "ak*", "*", "-akash", "NOT akash", "akash AND OR NOT render", "\"", "\"\"\"", "(((akash", "akash)))", "^render",
    "text:akash", "title : render", "{text title}: bittensor", "chunks_fts MATCH 'x'", "1; SELECT * FROM audit",
    "%' OR '%'='", "\\", "\x00", "$(rm -rf /)", "`id`", "<script>alert(1)</script>", "{{7*7}}", "../../etc/passwd",
    "UNION SELECT key FROM documents", "akash;", "render--", "/* comment */ tao", "+", "-", ":", "NEAR/3",
]


@FUZZ
@given(st.text(max_size=300))
def test_random_unicode_questions(engine, question):
    ask_ok(engine, question)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
       st.sampled_from(["how does akash's take rate work?", "what is render?", "tao emissions"]))
def test_questions_with_lone_surrogates(engine, junk, question):
    """What `compute-desk ask` gets from argv holding bytes that are not UTF-8 (surrogateescape)."""
    ask_ok(engine, junk + " " + question)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.sampled_from(INJECTIONS), st.sampled_from(["akash", "render", "lease", "tao", "take rate"])),
                min_size=1, max_size=6))
def test_injection_looking_questions(engine, parts):
    before = engine.store.conn.execute("SELECT count(*), coalesce(sum(chunk_count), 0) FROM documents").fetchone()
    ask_ok(engine, " ".join(parts))
    after = engine.store.conn.execute("SELECT count(*), coalesce(sum(chunk_count), 0) FROM documents").fetchone()
    assert after == before  # a question never changes the knowledge base


@FUZZ
@given(syntax=st.lists(st.sampled_from([s for s in INJECTIONS if s != "\x00"]), min_size=1, max_size=5),
       word=st.from_regex(r"\Azq[a-z]{6}\Z"))
def test_documents_full_of_syntax_are_found_again(engine, syntax, word):
    """A document containing SQL/FTS5 syntax is stored verbatim and a question quoting it finds it."""
    body = " ".join(syntax)
    text = (f"# Syntax sample {word}\n\nThe {word} parameter is written {body} in the config file.\n\n"
            f"Operators set {word} before a lease starts: {body}\n")
    FIGURES["inputs"] += 1
    report = engine.ingest_text(text, f"Syntax sample {word}", "fuzz:moderator", key=f"text/{word}")
    assert report.items[0].status in {"added", "updated", "unchanged"}, report.items
    stored = engine.store.conn.execute(
        "SELECT v.text FROM document_versions v JOIN documents d ON d.id = v.document_id WHERE d.key=?"
        " ORDER BY v.version DESC LIMIT 1", (f"text/{word}",)).fetchone()[0]
    assert word in stored
    answer = ask_ok(engine, f"how is the {word} parameter written {body}?")
    assert answer is not None
    assert f"text/{word}" in [s.path for s in answer.sources]
    assert engine.store.conn.execute("SELECT count(*) FROM documents").fetchone()[0] >= 4


def test_cli_ingests_a_folder_with_file_names_that_are_not_utf8(tmp_path):
    """Linux file names are bytes: one that is not UTF-8 must not crash the folder's ingest."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for raw in (b"odd\xff.md", b"odd\xfe.md", b"plain.md"):
        with open(os.path.join(os.fsencode(folder), raw), "wb") as fh:
            fh.write(b"# Leases\n\nAkash providers settle leases in escrow every block " + raw + b"\n")
    env = {**os.environ, "COMPUTE_DESK_EMBEDDER": "hash", "COMPUTE_DESK_METRICS_ON_ASK": "0",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    db = tmp_path / "cli.db"
    for _ in range(2):  # the second run finds all three unchanged: keys are stable
        proc = subprocess.run([sys.executable, "-m", "bot.cli", "--db", str(db), "kb", "--actor", "fuzz:cli",
                               "ingest", str(folder), "--json"], env=env, capture_output=True, timeout=120)
        FIGURES["inputs"] += 1
        assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr[-1500:]
    statuses = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(statuses) == 3 and all(b'"unchanged"' in line for line in statuses), statuses
    import sqlite3

    keys = [r[0] for r in sqlite3.connect(str(db)).execute("SELECT key FROM documents WHERE origin='file'")]
    assert sorted(keys) == ["odd\\udcfe.md", "odd\\udcff.md", "plain.md"]


def test_report_figures(capsys):
    """Not a check: prints the figures for the report."""
    with capsys.disabled():
        print(f"\n[fuzz] bad inputs tried: {FIGURES['inputs']}, ingests failed with a reason: "
              f"{FIGURES['ingest_failed_with_reason']}, questions refused: {FIGURES['questions_refused']}")

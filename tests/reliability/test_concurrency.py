"""Concurrency: the bot answering while a moderator ingests (one writer, many readers, WAL).

- In-process: one writer thread keeps replacing generated documents (each version has a different number of
  chunks, and every sentence of version N of document D carries the marker `mkDvN`) while reader threads ask
  through one shared Engine and through a second Engine on the same file (a second Store, like a second
  process). No reader may error (least of all "database is locked"); no answer may mix two versions of a
  document; every cited document is whole at the moment the reader looks (chunk_count = chunks = FTS rows).
- Multi-process: `compute-desk kb ingest` of the corpus in one subprocess while `compute-desk ask --json`
  runs in others.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path


from knowledge.config import load_settings
from knowledge.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"\bmk(\d+)v(\d+)\b")
DOCS = 5
READERS_PER_ENGINE = 3
RUN_SECONDS = 4.0

QUESTIONS = [
    "how does lease escrow settlement work for providers?",
    "what do providers bid on in the marketplace?",
    "how are deposits refunded when a lease closes?",
    "what happens to escrow when a provider goes offline?",
    "how does akash's take rate work?",
    "what is render's burn and mint equilibrium?",
]

FIGURES: dict[str, int] = {"asks": 0, "writes": 0, "errors": 0, "locked": 0, "process_asks": 0}


def doc_text(d: int, n: int) -> str:
    """Version n of document d: 2-4 sections (so the chunk count changes), every sentence marked."""
    m = f"mk{d}v{n}"
    sections = []
    for j in range(2 + (n + d) % 3):
        sections.append(
            f"## Settlement part {j}\n\n"
            f"Lease escrow settlement for providers works through deposits held by {m} in every block. "
            f"Providers bid on leases in the marketplace and the winning bid {m} sets the price per block. "
            f"Deposits are refunded when a lease closes and the remaining escrow {m} returns to the tenant. "
            f"When a provider goes offline the escrow {m} stops paying and the lease is closed by the chain. "
            f"Audited attributes {m} let tenants filter providers by region, hardware and uptime history. "
            f"The take rate {m} is a share of every settlement that goes to the community pool."
        )
    return f"# Escrow notes {d}\n\n" + "\n\n".join(sections) + "\n"


def _whole_now(engine: Engine, keys: list[str]) -> list[str]:
    """Problems with the cited documents as this reader sees the database now (one read transaction)."""
    conn = engine.store.conn
    problems = []
    conn.execute("BEGIN")
    try:
        for key in keys:
            row = conn.execute(
                "SELECT d.chunk_count, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id),"
                " (SELECT count(*) FROM chunks c JOIN chunks_fts f ON f.rowid = c.id WHERE c.document_id = d.id)"
                " FROM documents d WHERE d.key = ?", (key,)).fetchone()
            if row is None:
                problems.append(f"{key}: cited but not in documents")
            elif not (row[0] == row[1] == row[2] and row[0] > 0):
                problems.append(f"{key}: chunk_count {row[0]}, chunks {row[1]}, fts {row[2]}")
    finally:
        conn.execute("COMMIT")
    return problems


def _mixed_versions(answer) -> list[str]:
    texts = [answer.answer] + [s.snippet for s in answer.sources]
    seen: dict[str, set[str]] = {}
    for text in texts:
        for d, n in MARKER.findall(text):
            seen.setdefault(d, set()).add(n)
    return [f"doc {d}: versions {sorted(ns)} in one answer" for d, ns in seen.items() if len(ns) > 1]


def test_readers_while_a_writer_replaces_documents(tmp_path):
    settings = load_settings(db_path=tmp_path / "shared.db")
    shared = Engine(settings)  # one engine shared by the writer and half the readers (the bot)
    shared.ensure_starter_pack()
    for d in range(DOCS):
        shared.ingest_text(doc_text(d, 1), f"Escrow notes {d}", "test:writer", key=f"text/escrow-{d}")
    second = Engine(load_settings(db_path=tmp_path / "shared.db"))  # a second Store on the same file

    stop = threading.Event()
    errors: list[str] = []
    problems: list[str] = []
    counts = {"asks": 0, "writes": 0, "marked_answers": 0}
    count_lock = threading.Lock()

    def writer() -> None:
        n = 1
        try:
            while not stop.is_set():
                n += 1
                for d in range(DOCS):
                    engine = shared if (n + d) % 2 else second
                    report = engine.ingest_text(doc_text(d, n), f"Escrow notes {d}", "test:writer",
                                                key=f"text/escrow-{d}")
                    assert [i.status for i in report.items] == ["updated"], report.items
                    with count_lock:
                        counts["writes"] += 1
                if n % 4 == 0:  # a removal and a restore, too
                    second.remove("text/escrow-0", "test:writer")
                    shared.restore("text/escrow-0", "test:writer")
                    with count_lock:
                        counts["writes"] += 2
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(f"writer: {type(exc).__name__}: {exc}")
            stop.set()

    def reader(engine: Engine, i: int) -> None:
        q = i
        while not stop.is_set():
            q += 1
            try:
                answer = engine.ask(QUESTIONS[q % len(QUESTIONS)], asker=f"reader{i}")
                found = _mixed_versions(answer)
                found += _whole_now(engine, [s.path for s in answer.sources if s.kind == "document"])
            except Exception as exc:  # noqa: BLE001 - every exception is a failure, collected
                errors.append(f"reader {i}: {type(exc).__name__}: {exc}")
                continue
            with count_lock:
                counts["asks"] += 1
                counts["marked_answers"] += bool(MARKER.search(answer.answer))
            problems.extend(found)

    threads = [threading.Thread(target=writer)]
    threads += [threading.Thread(target=reader, args=(shared, i)) for i in range(READERS_PER_ENGINE)]
    threads += [threading.Thread(target=reader, args=(second, 100 + i)) for i in range(READERS_PER_ENGINE)]
    for t in threads:
        t.start()
    # Run at least RUN_SECONDS, and on a loaded machine until enough work overlapped (at most a minute),
    # so the test's own "it exercised something" checks below do not depend on machine speed.
    started = time.monotonic()
    while not stop.is_set() and time.monotonic() - started < 60:
        with count_lock:
            enough = counts["writes"] >= 2 * DOCS and counts["asks"] >= 20 and counts["marked_answers"] > 0
        if enough and time.monotonic() - started >= RUN_SECONDS:
            break
        time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)

    FIGURES["asks"] += counts["asks"]
    FIGURES["writes"] += counts["writes"]
    FIGURES["errors"] += len(errors)
    FIGURES["locked"] += sum("locked" in e for e in errors)
    assert not [e for e in errors if "locked" in e], errors[:5]
    assert errors == [], errors[:5]
    assert problems == [], problems[:5]
    # the test exercised what it claims: many answers, many replacements, answers that quote the documents
    assert counts["writes"] >= 2 * DOCS and counts["asks"] >= 20, counts
    assert counts["marked_answers"] > 0, counts
    # and the store is still whole
    for engine in (shared, second):
        assert engine.store.integrity_ok()
    bad = shared.store.query(
        "SELECT d.key FROM documents d WHERE d.chunk_count != (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)")
    assert bad == []


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"COMPUTE_DESK_DB", "PYTEST_CURRENT_TEST"}}
    env.update(COMPUTE_DESK_EMBEDDER="hash", COMPUTE_DESK_HOME=str(home), PYTHONPATH=str(ROOT))
    for name in ("COMPUTE_DESK_LLM_URL", "COMPUTE_DESK_LLM_MODEL"):
        env.pop(name, None)
    return env


def test_cli_asks_while_another_process_ingests(corpus, tmp_path):
    db = tmp_path / "kb.db"
    Engine(load_settings(db_path=db)).ensure_starter_pack()  # the bot's database already exists
    env = _env(tmp_path / "home")
    batch = tmp_path / "questions.jsonl"
    batch.write_text("".join(json.dumps({"id": i, "question": q}) + "\n" for i, q in enumerate(QUESTIONS * 3)))
    ingest = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--db", str(db), "kb", "--actor", "test:mod", "ingest", str(corpus),
         "--quiet"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answered = 0
    overlapped = 0
    failures: list[str] = []
    try:
        rounds = 0
        while rounds < 2 or (ingest.poll() is None and rounds < 12):
            rounds += 1
            running = ingest.poll() is None
            ask = subprocess.run(
                [sys.executable, "-m", "bot.cli", "--db", str(db), "ask", "--json", "--file", str(batch)],
                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
            overlapped += running and ingest.poll() is None
            if ask.returncode != 0 or "Traceback" in ask.stderr or "locked" in ask.stderr.lower():
                failures.append(f"exit {ask.returncode}: {ask.stderr[-800:]}")
                continue
            lines = [json.loads(line) for line in ask.stdout.splitlines() if line.strip()]
            assert len(lines) == len(QUESTIONS) * 3
            assert all(isinstance(a["answer"], str) and a["answer"] for a in lines)
            answered += len(lines)
    finally:
        out, err = ingest.communicate(timeout=300)
    FIGURES["process_asks"] += answered
    FIGURES["locked"] += sum("locked" in f for f in failures)
    assert failures == [], failures[:3]
    assert ingest.returncode == 0, err[-2000:]
    assert "locked" not in err.lower() and "Traceback" not in err
    assert overlapped >= 1, "no ask overlapped the ingest; the test proved nothing"
    assert "added" in out


def test_report_figures(capsys):
    """Not a check: prints the figures for the report."""
    with capsys.disabled():
        print(f"\n[concurrency] in-process asks: {FIGURES['asks']}, writes: {FIGURES['writes']}, "
              f"readers: {2 * READERS_PER_ENGINE} on 2 engines, CLI asks during ingest: {FIGURES['process_asks']}, "
              f"errors: {FIGURES['errors']}, 'locked': {FIGURES['locked']}")

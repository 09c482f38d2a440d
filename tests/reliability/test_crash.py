"""Crash safety: `kill -9` of a real `compute-desk kb ingest` of the whole shared corpus, at several points.

Two kinds of kill points:
- from outside, after a reader connection sees N committed documents (and one kill right after start);
- from inside, deterministically in the middle of a document's transaction: a tiny wrapper process installs a
  SQLite trace callback and SIGKILLs itself when the Nth chunk insert / embedding insert / audit insert /
  COMMIT is about to run.

After every kill: the database opens, `PRAGMA integrity_check` is ok, every document a reader saw committed
before the kill is still there unchanged, and every document is whole (chunk_count = its chunks = its FTS
rows, every chunk has its embedding, its version row exists). A final re-run finishes the rest and the result
equals a clean run into a fresh database: same keys, same content, one version each, no duplicates.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = ROOT.parent / "shared" / "corpus"

# Figures for the report (printed by the last test; also visible with -rA / -s).
FIGURES = {"kill_points": 0, "lost_documents": 0}


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"COMPUTE_DESK_DB", "PYTEST_CURRENT_TEST"}}
    env.update(COMPUTE_DESK_EMBEDDER="hash", COMPUTE_DESK_HOME=str(home), HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(ROOT))
    for secret in ("DISCORD_TOKEN", "COINGECKO_API_KEY", "TAOSTATS_API_KEY", "DUNE_API_KEY",
                   "COMPUTE_DESK_LLM_URL", "COMPUTE_DESK_LLM_MODEL"):
        env.pop(secret, None)
    return env


def _ingest_cmd(db: Path) -> list[str]:
    return [sys.executable, "-m", "bot.cli", "--db", str(db), "kb", "--actor", "test:crash", "ingest",
            str(CORPUS_DIR), "--quiet"]


def _run_to_completion(db: Path, workdir: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(_ingest_cmd(db), cwd=workdir, env=_env(workdir / "home"), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return proc


def _snapshot(db: Path) -> dict[str, tuple[str, int]]:
    """key -> (content_hash, chunk_count) of every document, read in one read transaction."""
    conn = sqlite3.connect(str(db), timeout=30)
    try:
        conn.execute("BEGIN")
        rows = conn.execute("SELECT key, content_hash, chunk_count FROM documents").fetchall()
        conn.execute("COMMIT")
    finally:
        conn.close()
    return {k: (h, n) for k, h, n in rows}


def _visible_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(str(db), timeout=30)
        try:
            return conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def check_whole(db: Path) -> dict[str, tuple[str, int]]:
    """The database opens through the app's own Store, is intact and holds only whole documents."""
    from knowledge.store import Store

    store = Store(db)  # opens (and would migrate) like the app does
    try:
        conn = store.conn
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # FTS index matches its content table
        conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('integrity-check')")
        per_doc = conn.execute(
            "SELECT d.key, d.chunk_count,"
            " (SELECT count(*) FROM chunks c WHERE c.document_id = d.id),"
            " (SELECT count(*) FROM chunks c JOIN chunks_fts f ON f.rowid = c.id WHERE c.document_id = d.id),"
            " (SELECT count(*) FROM chunks c LEFT JOIN embeddings e ON e.hash = c.embed_hash"
            "   WHERE c.document_id = d.id AND e.hash IS NULL),"
            " (SELECT count(*) FROM document_versions v WHERE v.document_id = d.id AND v.version = d.version"
            "   AND v.content_hash = d.content_hash),"
            " (SELECT count(*) FROM audit a WHERE a.document_key = d.key)"
            " FROM documents d"
        ).fetchall()
        for key, chunk_count, chunks, fts, missing_emb, version_rows, audits in per_doc:
            assert chunk_count > 0, f"{key}: document without chunks"
            assert chunks == chunk_count, f"{key}: chunk_count {chunk_count} but {chunks} chunk rows"
            assert fts == chunks, f"{key}: {chunks} chunks but {fts} FTS rows"
            assert missing_emb == 0, f"{key}: {missing_emb} chunks without an embedding"
            assert version_rows == 1, f"{key}: no document_versions row for its current version"
            assert audits >= 1, f"{key}: change not in the audit log"
        orphans = conn.execute(
            "SELECT count(*) FROM chunks c LEFT JOIN documents d ON d.id = c.document_id WHERE d.id IS NULL"
        ).fetchone()[0]
        assert orphans == 0, "chunks of a document that does not exist"
        n_chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        n_fts = conn.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
        assert n_fts == n_chunks
        dupes = conn.execute("SELECT key, count(*) FROM documents GROUP BY key HAVING count(*) > 1").fetchall()
        assert dupes == []
    finally:
        store.close()
    return _snapshot(db)


def assert_kept(before: dict[str, tuple[str, int]], after: dict[str, tuple[str, int]]) -> None:
    """Every document committed before the kill is still there, unchanged."""
    lost = [k for k in before if k not in after]
    changed = [k for k in before if k in after and after[k] != before[k]]
    FIGURES["lost_documents"] += len(lost)
    assert not lost, f"documents committed before the kill are gone: {lost[:5]}"
    assert not changed, f"documents changed by the kill: {changed[:5]}"


def assert_same_as_clean(db: Path, clean: dict) -> None:
    after = check_whole(db)
    assert after == clean["docs"], (
        f"{len(after)} documents after kills + re-run vs {len(clean['docs'])} in a clean run; "
        f"missing {sorted(set(clean['docs']) - set(after))[:5]}, extra {sorted(set(after) - set(clean['docs']))[:5]}")
    conn = sqlite3.connect(str(db))
    try:
        assert conn.execute("SELECT count(*) FROM chunks").fetchone()[0] == clean["chunks"]
        assert conn.execute("SELECT count(*) FROM chunks_fts").fetchone()[0] == clean["chunks"]
        # no duplicates: one version per document, one 'add' per key, versions all 1
        assert conn.execute("SELECT count(*) FROM document_versions").fetchone()[0] == len(clean["docs"])
        assert conn.execute("SELECT max(version) FROM documents").fetchone()[0] == 1
        adds = conn.execute(
            "SELECT document_key, count(*) FROM audit WHERE action='add' GROUP BY document_key HAVING count(*) > 1"
        ).fetchall()
        assert adds == [], f"documents added twice: {adds[:5]}"
    finally:
        conn.close()


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict:
    """What one uninterrupted run into a fresh database produces."""
    if not (CORPUS_DIR / "MANIFEST.tsv").exists():
        pytest.skip("../shared/corpus is not beside this checkout")
    work = tmp_path_factory.mktemp("clean")
    db = work / "clean.db"
    _run_to_completion(db, work)
    docs = check_whole(db)
    conn = sqlite3.connect(str(db))
    chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
    conn.close()
    manifest_rows = sum(1 for line in (CORPUS_DIR / "MANIFEST.tsv").read_text().splitlines()[1:] if line.strip())
    assert len(docs) > 0.9 * manifest_rows  # sanity: most of the corpus is ingestable
    return {"docs": docs, "chunks": chunks}


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, f"the ingest ended on its own ({proc.returncode}) before the kill"
    FIGURES["kill_points"] += 1


def test_kill_when_documents_are_visible(corpus, clean, tmp_path):
    """SIGKILL right after start, then after N documents are visible to a reader, for several N."""
    db = tmp_path / "kb.db"
    total = len(clean["docs"])
    work = tmp_path

    # 1. very early: before (or while) the database and its schema are created
    proc = subprocess.Popen(_ingest_cmd(db), cwd=work, env=_env(work / "home"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not db.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    _kill(proc)
    if db.exists():
        check_whole(db)

    # 2. after N visible documents (the pack's 4 are committed first, then the corpus in batches)
    for threshold in (10, total // 3, (2 * total) // 3, total - 100):
        before_start = check_whole(db) if db.exists() else {}
        proc = subprocess.Popen(_ingest_cmd(db), cwd=work, env=_env(work / "home"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seen: dict[str, tuple[str, int]] = {}
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if _visible_count(db) >= threshold:
                seen = _snapshot(db)  # committed and visible to a reader before the kill
                break
            time.sleep(0.005)
        assert proc.poll() is None, f"ingest finished before {threshold} documents were visible"
        _kill(proc)
        assert len(seen) >= threshold
        after = check_whole(db)
        assert_kept(before_start, after)
        assert_kept(seen, after)

    # 3. a re-run finishes the rest, without duplicates
    _run_to_completion(db, work)
    assert_same_as_clean(db, clean)


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from knowledge import store

    PATTERN, NTH = sys.argv[1], int(sys.argv[2])
    seen = 0
    _connect = store.Store._connect

    def connect(self):
        conn = _connect(self)

        def trace(sql):
            global seen
            if sql.startswith(PATTERN):
                seen += 1
                if seen == NTH:  # the statement has not run yet: we die mid-transaction
                    os.kill(os.getpid(), signal.SIGKILL)

        conn.set_trace_callback(trace)
        return conn

    store.Store._connect = connect
    from bot.cli import main
    sys.exit(main(sys.argv[3:]))
    """
)


@pytest.mark.parametrize("kills", [[
    ("INSERT INTO chunks(", 1500),      # inside a document: row, version and some chunks written
    ("INSERT OR IGNORE INTO embeddings", 2500),  # between version row and chunks
    ("INSERT INTO audit(", 200),        # all chunks written, audit next
    ("COMMIT", 150),                    # everything written, COMMIT about to run
]])
def test_kill_in_the_middle_of_a_transaction(corpus, clean, tmp_path, kills):
    """SIGKILL from inside the process at the moment a document's transaction is half written."""
    db = tmp_path / "kb.db"
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    argv_tail = _ingest_cmd(db)[3:]  # drop python -m bot.cli
    for pattern, nth in kills:
        before = check_whole(db) if db.exists() else {}
        proc = subprocess.run([sys.executable, str(script), pattern, str(nth), *argv_tail], cwd=tmp_path,
                              env=_env(tmp_path / "home"), capture_output=True, text=True, timeout=300)
        assert proc.returncode == -signal.SIGKILL, (
            f"{pattern!r} #{nth} never ran (exit {proc.returncode}): {proc.stderr[-500:]}")
        FIGURES["kill_points"] += 1
        after = check_whole(db)
        assert_kept(before, after)
        assert len(after) > len(before), "the run made no progress before the kill point"
        assert len(after) < len(clean["docs"])
    _run_to_completion(db, tmp_path)
    assert_same_as_clean(db, clean)


def test_report_figures(capsys):
    """Not a check: prints the figures for the report."""
    with capsys.disabled():
        print(f"\n[crash] kill points survived: {FIGURES['kill_points']}, "
              f"lost documents: {FIGURES['lost_documents']}")

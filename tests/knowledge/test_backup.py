"""Back-up export/import: a full round trip, refusals that leave the target untouched, idempotence and merging."""

from __future__ import annotations

import gzip
import json

import pytest

from knowledge.backup import TABLES, export_kb, import_kb
from knowledge.config import load_settings
from knowledge.errors import BadInputError
from knowledge.store import Store

ORDER = {
    "documents": "key",
    "document_versions": "document_key, version",
    "audit": "id",
    "gaps": "question_key",
    "answers": "id",
    "feedback": "answer_id, user_id",
    "settings": "scope, key",
    "protocols": "id",
}


def _doc(conn, key, versions, status="active", current=None, chunk_count=0):
    """Insert a document and its versions [(hash, text), ...]; the current version is the last unless given."""
    cur_no = current or len(versions)
    cur_hash = versions[cur_no - 1][0]
    doc_id = conn.execute(
        "INSERT INTO documents(key, protocol, title, source_url, date, origin, content_hash, version, status,"
        " chunk_count, added_by, added_at, updated_by, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (key, "akash", f"Title of {key}", f"https://docs.example/{key}", "2024-05-01", "url", cur_hash, cur_no,
         status, chunk_count, "mod:1", "2024-05-01T10:00:00Z", "mod:2", "2024-06-01T10:00:00Z"),
    ).lastrowid
    for number, (content_hash, text) in enumerate(versions, start=1):
        conn.execute(
            "INSERT INTO document_versions(document_id, version, content_hash, title, protocol, source_url, date,"
            " text, created_by, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (doc_id, number, content_hash, f"Title of {key} v{number}", "akash", f"https://docs.example/{key}",
             "2024-05-01", text, "mod:1", f"2024-05-0{number}T10:00:00Z"),
        )
    return doc_id


def _populate(store: Store) -> None:
    """A store with every exported table filled, including awkward values (unicode, restored versions)."""
    with store.write() as conn:
        _doc(conn, "akash/take-rate.md", [("h1", "Take rate is 20% — USDC."), ("h2", "Take rate: 10%.")],
             chunk_count=3)
        _doc(conn, "render/rnp.md", [("r1", "RNP-019 ✓"), ("r2", "RNP-020"), ("r1", "RNP-019 ✓")])  # restored
        _doc(conn, "old/removed.md", [("x1", "gone")], status="removed")
        audit = [
            ("2024-05-01T10:00:00Z", "mod:1", "add", "akash/take-rate.md", '{"version": 1}'),
            ("2024-05-02T10:00:00Z", "mod:1", "update", "akash/take-rate.md", '{"version": 2}'),
            ("2024-05-02T10:00:00Z", "mod:1", "update", "akash/take-rate.md", '{"version": 2, "again": true}'),
            ("2024-05-03T10:00:00Z", "mod:2", "remove", "old/removed.md", "{}"),
            ("2024-05-04T10:00:00Z", "admin", "setting", "", '{"key": "threshold"}'),
        ]
        conn.executemany("INSERT INTO audit(at, actor, action, document_key, detail) VALUES (?,?,?,?,?)", audit)
        conn.executemany(
            "INSERT INTO gaps(question_key, question, protocol, count, first_at, last_at, nearest)"
            " VALUES (?,?,?,?,?,?,?)",
            [("akash gpu price", "What does a GPU cost on Akash?", "akash", 4, "2024-05-01T00:00:00Z",
              "2024-05-09T00:00:00Z", '["akash/take-rate.md"]'),
             ("tao halving", "When is the TAO halving?", "bittensor", 1, "2024-05-02T00:00:00Z",
              "2024-05-02T00:00:00Z", "[]")],
        )
        conn.execute("INSERT INTO answers(id, at, question, protocol, declined, confidence, payload)"
                     " VALUES ('a1', '2024-05-05T00:00:00Z', 'Take rate?', 'akash', 0, 0.8125, '{\"x\": 1}')")
        conn.execute("INSERT INTO feedback(answer_id, user_id, vote, at) VALUES ('a1', 'u9', 1, '2024-05-05T00:01:00Z')")
        conn.executemany("INSERT INTO settings(scope, key, value) VALUES (?,?,?)",
                         [("global", "decline_threshold", "0.55"), ("123456", "channel", '"research"')])
        conn.execute("INSERT INTO protocols(id, data, added_by, added_at) VALUES "
                     "('golem', '{\"name\": \"Golem\"}', 'admin', '2024-05-06T00:00:00Z')")


def _table(store: Store, table: str) -> list[dict]:
    """A table's portable rows (no autoincrement ids; versions named by their document's key)."""
    columns = ", ".join(f"t.{c}" for c in TABLES[table] if c != "document_key")
    if table == "document_versions":
        sql = (f"SELECT d.key AS document_key, {columns} FROM document_versions t "
               f"JOIN documents d ON d.id = t.document_id ORDER BY d.key, t.version")
    else:
        sql = f"SELECT {columns} FROM {table} t ORDER BY {', '.join('t.' + c.strip() for c in ORDER[table].split(','))}"
    return store.query(sql)


def _dump(store: Store) -> dict[str, list[dict]]:
    return {table: _table(store, table) for table in TABLES}


@pytest.fixture
def source(tmp_path):
    store = Store(tmp_path / "source.db")
    _populate(store)
    return store


@pytest.fixture
def target(tmp_path):
    return Store(tmp_path / "target.db")


@pytest.fixture
def backup(source, tmp_path):
    path = tmp_path / "kb.cdk.gz"
    export_kb(source, path)
    return path


def _lines(path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _write_lines(path, records) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record) + "\n")


# -- export --------------------------------------------------------------------------------------
def test_export_writes_a_header_then_one_record_per_row(source, tmp_path):
    path = tmp_path / "out.gz"
    counts = export_kb(source, path)
    assert counts == {"documents": 3, "document_versions": 6, "audit": 5, "gaps": 2, "answers": 1, "feedback": 1,
                      "settings": 2, "protocols": 1}
    lines = _lines(path)
    assert lines[0]["format"] == "compute-desk-backup" and lines[0]["version"] == 1
    assert lines[0]["counts"] == counts and lines[0]["created_at"]
    assert len(lines) == 1 + sum(counts.values())
    assert {r["table"] for r in lines[1:]} == set(TABLES)
    assert all("id" not in r for r in lines[1:] if r["table"] in ("documents", "document_versions", "audit"))


def test_chunks_embeddings_and_fts_are_not_exported(source, tmp_path):
    with source.write() as conn:
        doc_id = conn.execute("SELECT id FROM documents WHERE key='akash/take-rate.md'").fetchone()[0]
        conn.execute("INSERT INTO chunks(document_id, position, text, embed_hash) VALUES (?, 0, 'chunk text', 'e1')",
                     (doc_id,))
        conn.execute("INSERT INTO embeddings(hash, vector) VALUES ('e1', x'00000000')")
    path = tmp_path / "out.gz"
    export_kb(source, path)
    raw = gzip.decompress(path.read_bytes()).decode()
    assert "chunk text" not in raw and '"e1"' not in raw


# -- round trip ----------------------------------------------------------------------------------
def test_round_trip_into_a_fresh_store_is_row_for_row_equal(source, target, backup):
    counts = import_kb(target, backup, actor="admin:7")
    expected, got = _dump(source), _dump(target)
    for table in TABLES:
        if table == "documents":  # chunk counts are rebuilt by reindex, so a fresh import starts at 0
            assert [{**d, "chunk_count": 0} for d in expected[table]] == got[table]
        elif table == "audit":
            assert got[table][:-1] == expected[table]
            assert got[table][-1]["action"] == "kb-import" and got[table][-1]["actor"] == "admin:7"
            assert json.loads(got[table][-1]["detail"])["counts"]["documents"] == 3
        else:
            assert got[table] == expected[table], table
    assert counts["documents"] == 3 and counts["document_versions"] == 6 and counts["audit"] == 5
    assert target.integrity_ok()


def test_importing_twice_adds_nothing_the_second_time(source, target, backup):
    import_kb(target, backup, actor="admin")
    first = _dump(target)
    generation = target.generation()
    counts = import_kb(target, backup, actor="admin")
    second = _dump(target)
    assert {k: v for k, v in counts.items() if k in TABLES} == dict.fromkeys(TABLES, 0)
    assert second["audit"][:-1] == first["audit"]  # only the second kb-import row is new
    assert second["audit"][-1]["action"] == "kb-import"
    assert {t: rows for t, rows in second.items() if t != "audit"} == {t: rows for t, rows in first.items()
                                                                       if t != "audit"}
    assert target.generation() == generation


def test_reindex_is_called_for_documents_whose_content_changed_only(source, target, backup):
    calls: list[str] = []
    counts = import_kb(target, backup, actor="admin", reindex=lambda store, key: calls.append(key))
    assert sorted(calls) == ["akash/take-rate.md", "old/removed.md", "render/rnp.md"]
    assert counts["reindexed"] == 3
    calls.clear()
    import_kb(target, backup, actor="admin", reindex=lambda store, key: calls.append(key))
    assert calls == []


def test_a_failing_reindex_is_counted_not_fatal(source, target, backup):
    def broken(store, key):
        raise BadInputError(f"could not reindex {key}")

    counts = import_kb(target, backup, actor="admin", reindex=broken)
    assert counts["reindex_failed"] == 3 and counts["reindexed"] == 0
    assert len(_table(target, "documents")) == 3


# -- merging into a store that already has content -----------------------------------------------
def test_merge_keeps_local_versions_and_replaces_a_changed_current_version(source, target, backup):
    with target.write() as conn:
        doc_id = _doc(conn, "akash/take-rate.md", [("h1", "Take rate is 20% — USDC."), ("local", "local edit")],
                      chunk_count=2)
        conn.execute("INSERT INTO chunks(document_id, position, text, embed_hash) VALUES (?, 0, 'stale', 'e')",
                     (doc_id,))
        _doc(conn, "mine/only.md", [("m1", "local only")])
        conn.execute("INSERT INTO gaps(question_key, question, protocol, count, first_at, last_at, nearest)"
                     " VALUES ('akash gpu price', 'GPU price?', 'akash', 9, '2024-05-03T00:00:00Z',"
                     " '2024-05-04T00:00:00Z', '[]')")
        conn.execute("INSERT INTO settings(scope, key, value) VALUES ('global', 'decline_threshold', '0.9')")
    calls: list[str] = []
    import_kb(target, backup, actor="admin", reindex=lambda store, key: calls.append(key))

    versions = [(v["version"], v["content_hash"]) for v in _table(target, "document_versions")
                if v["document_key"] == "akash/take-rate.md"]
    assert versions == [(1, "h1"), (2, "local"), (3, "h2")]  # local kept; imported h2 appended, not renumbered over
    doc = next(d for d in _table(target, "documents") if d["key"] == "akash/take-rate.md")
    assert (doc["content_hash"], doc["version"], doc["chunk_count"]) == ("h2", 3, 0)
    assert target.query("SELECT count(*) AS n FROM chunks WHERE document_id=?", (doc_id,))[0]["n"] == 0
    assert "akash/take-rate.md" in calls and "mine/only.md" not in calls
    assert any(d["key"] == "mine/only.md" for d in _table(target, "documents"))
    gap = next(g for g in _table(target, "gaps") if g["question_key"] == "akash gpu price")
    assert (gap["count"], gap["first_at"], gap["last_at"]) == (9, "2024-05-01T00:00:00Z", "2024-05-09T00:00:00Z")
    assert gap["nearest"] == '["akash/take-rate.md"]'  # from the row seen most recently
    assert target.get_setting("global", "decline_threshold") == 0.55


def test_an_unchanged_current_version_is_left_alone(source, target, backup):
    with target.write() as conn:
        _doc(conn, "akash/take-rate.md", [("h1", "Take rate is 20% — USDC."), ("h2", "Take rate: 10%.")],
             chunk_count=5)
    calls: list[str] = []
    import_kb(target, backup, actor="admin", reindex=lambda store, key: calls.append(key))
    doc = next(d for d in _table(target, "documents") if d["key"] == "akash/take-rate.md")
    assert doc["chunk_count"] == 5 and "akash/take-rate.md" not in calls


# -- refusals ------------------------------------------------------------------------------------
def _assert_refused(target, path, match):
    before = _dump(target)
    generation = target.generation()
    with pytest.raises(BadInputError, match=match):
        import_kb(target, path, actor="admin")
    assert _dump(target) == before and target.generation() == generation


def test_a_truncated_gzip_is_refused_and_nothing_is_written(target, backup, tmp_path):
    cut = tmp_path / "cut.gz"
    data = backup.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    _assert_refused(target, cut, "truncated")


def test_a_file_cut_at_a_line_boundary_is_refused_by_the_header_counts(target, backup, tmp_path):
    lines = _lines(backup)
    cut = tmp_path / "cut-lines.gz"
    _write_lines(cut, lines[:-2])
    _assert_refused(target, cut, "header promises")


def test_a_wrong_header_is_refused(target, backup, tmp_path):
    lines = _lines(backup)
    foreign = tmp_path / "foreign.gz"
    _write_lines(foreign, [{"format": "someone-else", "version": 1, "counts": {}}, *lines[1:]])
    _assert_refused(target, foreign, "not a Compute Desk backup")


def test_a_newer_format_version_is_refused(target, backup, tmp_path):
    lines = _lines(backup)
    newer = tmp_path / "newer.gz"
    _write_lines(newer, [{**lines[0], "version": 2}, *lines[1:]])
    _assert_refused(target, newer, "version 2 is not supported")


def test_a_plain_file_is_refused(target, tmp_path):
    plain = tmp_path / "notes.txt"
    plain.write_text("hello")
    _assert_refused(target, plain, "not a gzip-compressed backup")


def test_a_bad_record_late_in_the_file_refuses_the_whole_file(target, backup, tmp_path):
    lines = _lines(backup)
    bad = tmp_path / "bad.gz"
    last = {**lines[-1]}
    last.pop("table")
    last["table"] = "protocols"
    last["data"] = 42  # wrong type in the very last record
    _write_lines(bad, [*lines[:-1], last])
    _assert_refused(target, bad, r"protocols.data should be str")


def test_a_version_without_its_document_is_refused(target, backup, tmp_path):
    lines = _lines(backup)
    orphan = [r for r in lines if not (r.get("table") == "documents" and r["key"] == "old/removed.md")]
    orphan[0] = {**orphan[0], "counts": {**orphan[0]["counts"], "documents": 2}}
    path = tmp_path / "orphan.gz"
    _write_lines(path, orphan)
    _assert_refused(target, path, "has no document")


def test_a_missing_file_is_a_clear_error(target, tmp_path):
    with pytest.raises(BadInputError, match="no such file"):
        import_kb(target, tmp_path / "absent.gz", actor="admin")


# -- with the real engine: chunks and search come back -------------------------------------------
def test_engine_round_trip_rebuilds_chunks_and_search(tmp_path):
    from knowledge.engine import Engine

    a = Engine(load_settings(db_path=tmp_path / "a.db", embedder="hash"))
    a.ingest_text("# Take rates\n\nThe take rate on USDC leases is 20% of lease payments.", title="Take rates",
                  actor="mod:1", protocol="akash", key="akash/take-rate.md")
    a.ingest_text("# Emissions\n\nA subnet owner receives 18% of emissions.", title="Emissions",
                  actor="mod:1", protocol="bittensor", key="bittensor/emissions.md")
    a.remove("bittensor/emissions.md", actor="mod:1")
    path = tmp_path / "kb.gz"
    export_kb(a.store, path)

    b = Engine(load_settings(db_path=tmp_path / "b.db", embedder="hash"))
    counts = import_kb(b.store, path, actor="admin", reindex=b.reindex)
    assert counts["reindexed"] == 2 and counts["reindex_failed"] == 0

    def chunks(engine):
        return engine.store.query("SELECT d.key, d.status, d.chunk_count, count(c.id) AS n FROM documents d "
                                  "LEFT JOIN chunks c ON c.document_id = d.id GROUP BY d.key ORDER BY d.key")

    assert chunks(b) == chunks(a)
    assert b.store.query("SELECT count(*) AS n FROM chunks_fts WHERE chunks_fts MATCH 'lease'")[0]["n"] >= 1

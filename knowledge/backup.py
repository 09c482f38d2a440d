"""Back-up: export the knowledge base to one portable file and merge such a file back in.

The file is gzip-compressed JSON Lines. Line 1 is a header
`{"format": "compute-desk-backup", "version": 1, "created_at": ..., "counts": {table: n}}`; every further line is
one row `{"table": name, column: value, ...}` of documents, document_versions (tied to their document by
`document_key`, not by a local id), audit, gaps, answers, feedback, settings or protocols. Chunks, embeddings and
the FTS index are not exported: they are rebuilt from each document's current text by the `reindex` callback.

Import validates the whole file before writing anything, then merges in one transaction.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import sqlite3
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from knowledge.errors import BadInputError, ComputeDeskError
from knowledge.store import Store, now_iso

log = logging.getLogger(__name__)

FORMAT = "compute-desk-backup"
VERSION = 1

Reindex = Callable[[Store, str], None]

_S, _I, _F = str, int, float
# Every exported table, in export (and import) order, with its portable columns and their JSON types.
TABLES: dict[str, dict[str, type]] = {
    "documents": {
        "key": _S, "protocol": _S, "title": _S, "source_url": _S, "date": _S, "origin": _S, "content_hash": _S,
        "version": _I, "status": _S, "chunk_count": _I, "added_by": _S, "added_at": _S, "updated_by": _S,
        "updated_at": _S,
    },
    "document_versions": {
        "document_key": _S, "version": _I, "content_hash": _S, "title": _S, "protocol": _S, "source_url": _S,
        "date": _S, "text": _S, "created_by": _S, "created_at": _S,
    },
    "audit": {"at": _S, "actor": _S, "action": _S, "document_key": _S, "detail": _S},
    "gaps": {
        "question_key": _S, "question": _S, "protocol": _S, "count": _I, "first_at": _S, "last_at": _S,
        "nearest": _S,
    },
    "answers": {
        "id": _S, "at": _S, "question": _S, "protocol": _S, "declined": _I, "confidence": _F, "payload": _S,
    },
    "feedback": {"answer_id": _S, "user_id": _S, "vote": _I, "at": _S},
    "settings": {"scope": _S, "key": _S, "value": _S},
    "protocols": {"id": _S, "data": _S, "added_by": _S, "added_at": _S},
}

_EXPORT_SQL: dict[str, str] = {
    "documents": "SELECT {cols} FROM documents ORDER BY id",
    "document_versions": "SELECT d.key AS document_key, {vcols} FROM document_versions v "
                         "JOIN documents d ON d.id = v.document_id ORDER BY d.id, v.version",
    "audit": "SELECT {cols} FROM audit ORDER BY id",
    "gaps": "SELECT {cols} FROM gaps ORDER BY id",
    "answers": "SELECT {cols} FROM answers ORDER BY at, id",
    "feedback": "SELECT {cols} FROM feedback ORDER BY answer_id, user_id",
    "settings": "SELECT {cols} FROM settings ORDER BY scope, key",
    "protocols": "SELECT {cols} FROM protocols ORDER BY id",
}


# -- export ----------------------------------------------------------------------------------------
@contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction, so every table is read at the same moment."""
    began = not conn.in_transaction
    if began:
        conn.execute("BEGIN")
    try:
        yield
    finally:
        if began:
            conn.execute("COMMIT")


def _rows(conn: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    """Every portable row of one table."""
    columns = TABLES[table]
    cols = ", ".join(c for c in columns)
    vcols = ", ".join(f"v.{c}" for c in columns if c != "document_key")
    cur = conn.execute(_EXPORT_SQL[table].format(cols=cols, vcols=vcols))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def export_kb(store: Store, path: str | Path) -> dict[str, int]:
    """Write the knowledge base to one gzip JSON Lines file at `path`; returns the row count per table."""
    path = Path(path)
    with _snapshot(store.conn):
        data = {table: _rows(store.conn, table) for table in TABLES}
    counts = {table: len(rows) for table, rows in data.items()}
    header = {"format": FORMAT, "version": VERSION, "created_at": now_iso(), "counts": counts}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with gzip.open(tmp, "wt", encoding="utf-8", newline="\n") as fh:
            fh.write(json.dumps(header) + "\n")
            for table, rows in data.items():
                for row in rows:
                    fh.write(json.dumps({"table": table, **row}, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BadInputError(f"cannot write {path}: {exc.strerror or type(exc).__name__}") from None
    return counts


# -- reading and validating ------------------------------------------------------------------------
def _refuse(path: Path, reason: str) -> BadInputError:
    return BadInputError(f"{path.name}: not imported, {reason}")


def read_backup(path: str | Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Read and validate a whole backup file (header and every record); raises BadInputError."""
    path = Path(path)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        reason = "the file is truncated" if isinstance(exc, EOFError) else "not a gzip-compressed backup"
        raise _refuse(path, f"{reason} ({type(exc).__name__})") from None
    if not lines:
        raise _refuse(path, "the file is empty")
    header = _parse_line(path, lines[0], 1)
    _check_header(path, header)
    data: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLES}
    for number, line in enumerate(lines[1:], start=2):
        record = _parse_line(path, line, number)
        table = record.pop("table", None)
        if table not in TABLES:
            raise _refuse(path, f"line {number}: unknown table {table!r}")
        data[table].append(_check_record(path, table, record, number))
    _check_counts(path, header["counts"], data)
    _check_references(path, data)
    return header, data


def _parse_line(path: Path, line: str, number: int) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        raise _refuse(path, f"line {number} is not valid JSON") from None
    if not isinstance(value, dict):
        raise _refuse(path, f"line {number} is not a JSON object")
    return value


def _check_header(path: Path, header: dict[str, Any]) -> None:
    if header.get("format") != FORMAT:
        raise _refuse(path, "not a Compute Desk backup (wrong header)")
    version = header.get("version")
    if type(version) is not int or version != VERSION:
        raise _refuse(path, f"backup format version {version!r} is not supported (this build reads {VERSION})")
    counts = header.get("counts")
    if not isinstance(counts, dict) or not all(type(v) is int and v >= 0 for v in counts.values()):
        raise _refuse(path, "the header has no valid counts")
    unknown = set(counts) - set(TABLES)
    if unknown:
        raise _refuse(path, f"the header names unknown tables {sorted(unknown)}")


def _check_record(path: Path, table: str, record: dict[str, Any], number: int) -> dict[str, Any]:
    """The record reduced to its table's columns, each of the right type."""
    out: dict[str, Any] = {}
    for column, kind in TABLES[table].items():
        if column not in record:
            raise _refuse(path, f"line {number}: {table} row has no {column!r}")
        value = record[column]
        ok = type(value) is kind or (kind is float and type(value) is int)
        if not ok:
            raise _refuse(path, f"line {number}: {table}.{column} should be {kind.__name__}")
        out[column] = value
    return out


def _check_counts(path: Path, counts: dict[str, int], data: dict[str, list[dict[str, Any]]]) -> None:
    for table, rows in data.items():
        if counts.get(table, 0) != len(rows):
            raise _refuse(path, f"the header promises {counts.get(table, 0)} {table} rows, the file has {len(rows)}"
                                " (truncated or edited)")


def _unique(path: Path, rows: list[dict[str, Any]], fields: tuple[str, ...], what: str) -> None:
    seen = Counter(tuple(r[f] for f in fields) for r in rows)
    dupes = [k for k, n in seen.items() if n > 1]
    if dupes:
        raise _refuse(path, f"duplicate {what} {dupes[0]!r}")


def _check_references(path: Path, data: dict[str, list[dict[str, Any]]]) -> None:
    """Keys unique; every version belongs to an exported document; every document has its current text."""
    for table, fields in (("documents", ("key",)), ("document_versions", ("document_key", "version")),
                          ("gaps", ("question_key",)), ("answers", ("id",)),
                          ("feedback", ("answer_id", "user_id")), ("settings", ("scope", "key")),
                          ("protocols", ("id",))):
        _unique(path, data[table], fields, f"{table} key")
    keys = {d["key"] for d in data["documents"]}
    hashes = {(v["document_key"], v["content_hash"]) for v in data["document_versions"]}
    for v in data["document_versions"]:
        if v["document_key"] not in keys:
            raise _refuse(path, f"a version of {v['document_key']!r} has no document")
    for d in data["documents"]:
        if d["status"] not in ("active", "removed"):
            raise _refuse(path, f"document {d['key']!r} has an unknown status {d['status']!r}")
        if (d["key"], d["content_hash"]) not in hashes:
            raise _refuse(path, f"document {d['key']!r} has no stored text for its current version")


# -- merging ---------------------------------------------------------------------------------------
def _merge_document(conn: sqlite3.Connection, doc: dict[str, Any], versions: list[dict[str, Any]]) -> tuple[bool, int]:
    """Merge one document and its versions; returns (current content changed, versions added)."""
    row = conn.execute("SELECT id, content_hash FROM documents WHERE key=?", (doc["key"],)).fetchone()
    if row is None:
        return True, _insert_document(conn, doc, versions)
    doc_id, local_hash = row
    local = dict(conn.execute(
        "SELECT content_hash, max(version) FROM document_versions WHERE document_id=? GROUP BY content_hash",
        (doc_id,)).fetchall())
    top = conn.execute("SELECT coalesce(max(version), 0) FROM document_versions WHERE document_id=?",
                       (doc_id,)).fetchone()[0]
    added = 0
    for v in versions:
        if v["content_hash"] in local:
            continue
        top += 1
        _insert_version(conn, doc_id, {**v, "version": top})
        local[v["content_hash"]] = top
        added += 1
    if doc["content_hash"] == local_hash:
        return False, added
    conn.execute("DELETE FROM chunks WHERE document_id=?", (doc_id,))
    conn.execute(
        "UPDATE documents SET protocol=?, title=?, source_url=?, date=?, origin=?, content_hash=?, version=?,"
        " status=?, chunk_count=0, updated_by=?, updated_at=? WHERE id=?",
        (doc["protocol"], doc["title"], doc["source_url"], doc["date"], doc["origin"], doc["content_hash"],
         local[doc["content_hash"]], doc["status"], doc["updated_by"], doc["updated_at"], doc_id),
    )
    return True, added


def _insert_document(conn: sqlite3.Connection, doc: dict[str, Any], versions: list[dict[str, Any]]) -> int:
    """A document new to this store, with all its versions; chunks come later from reindex."""
    columns = [c for c in TABLES["documents"] if c != "chunk_count"]
    cur = conn.execute(
        f"INSERT INTO documents({', '.join(columns)}, chunk_count) VALUES ({', '.join('?' * len(columns))}, 0)",
        [doc[c] for c in columns],
    )
    for v in versions:
        _insert_version(conn, cur.lastrowid, v)
    return len(versions)


def _insert_version(conn: sqlite3.Connection, doc_id: int, v: dict[str, Any]) -> None:
    columns = [c for c in TABLES["document_versions"] if c != "document_key"]
    conn.execute(
        f"INSERT INTO document_versions(document_id, {', '.join(columns)}) VALUES (?, {', '.join('?' * len(columns))})",
        [doc_id, *(v[c] for c in columns)],
    )


def _merge_audit(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> int:
    """Append audit rows not already here, matching on (at, actor, action, document_key) with multiplicity."""
    have = Counter(conn.execute("SELECT at, actor, action, document_key FROM audit").fetchall())
    added = 0
    for r in rows:
        key = (r["at"], r["actor"], r["action"], r["document_key"])
        if have[key] > 0:
            have[key] -= 1
            continue
        conn.execute("INSERT INTO audit(at, actor, action, document_key, detail) VALUES (?,?,?,?,?)",
                     (*key, r["detail"]))
        added += 1
    return added


def _merge_gap(conn: sqlite3.Connection, g: dict[str, Any]) -> int:
    """Merge one gap by question_key: the larger count, the earliest first_at, the latest last_at."""
    row = conn.execute("SELECT count, first_at, last_at FROM gaps WHERE question_key=?",
                       (g["question_key"],)).fetchone()
    if row is None:
        columns = list(TABLES["gaps"])
        conn.execute(f"INSERT INTO gaps({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                     [g[c] for c in columns])
        return 1
    count, first_at, last_at = max(row[0], g["count"]), min(row[1], g["first_at"]), max(row[2], g["last_at"])
    if (count, first_at, last_at) == tuple(row):
        return 0
    newer = g["last_at"] > row[2]
    conn.execute(
        "UPDATE gaps SET count=?, first_at=?, last_at=?, nearest=CASE WHEN ? THEN ? ELSE nearest END "
        "WHERE question_key=?",
        (count, first_at, last_at, newer, g["nearest"], g["question_key"]),
    )
    return 1


_UPSERTS: dict[str, str] = {
    "answers": "INSERT OR IGNORE INTO answers(id, at, question, protocol, declined, confidence, payload) "
               "VALUES (:id, :at, :question, :protocol, :declined, :confidence, :payload)",
    "feedback": "INSERT INTO feedback(answer_id, user_id, vote, at) VALUES (:answer_id, :user_id, :vote, :at) "
                "ON CONFLICT(answer_id, user_id) DO UPDATE SET vote=excluded.vote, at=excluded.at "
                "WHERE excluded.at > feedback.at",
    "settings": "INSERT INTO settings(scope, key, value) VALUES (:scope, :key, :value) "
                "ON CONFLICT(scope, key) DO UPDATE SET value=excluded.value WHERE settings.value != excluded.value",
    "protocols": "INSERT INTO protocols(id, data, added_by, added_at) VALUES (:id, :data, :added_by, :added_at) "
                 "ON CONFLICT(id) DO UPDATE SET data=excluded.data, added_by=excluded.added_by, "
                 "added_at=excluded.added_at WHERE protocols.data != excluded.data",
}


def _upsert(conn: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> int:
    """Insert or update rows keyed by primary key; returns how many rows changed."""
    changed = 0
    for r in rows:
        changed += conn.execute(_UPSERTS[table], r).rowcount
    return changed


def _merge(conn: sqlite3.Connection, data: dict[str, list[dict[str, Any]]]) -> tuple[dict[str, int], list[str]]:
    """Merge every table; returns the per-table change counts and the keys whose current content changed."""
    counts = dict.fromkeys(TABLES, 0)
    changed_keys: list[str] = []
    by_key: dict[str, list[dict[str, Any]]] = {}
    for v in data["document_versions"]:
        by_key.setdefault(v["document_key"], []).append(v)
    for doc in data["documents"]:
        changed, added = _merge_document(conn, doc, sorted(by_key.get(doc["key"], []), key=lambda v: v["version"]))
        counts["document_versions"] += added
        if changed:
            counts["documents"] += 1
            changed_keys.append(doc["key"])
    counts["audit"] = _merge_audit(conn, data["audit"])
    counts["gaps"] = sum(_merge_gap(conn, g) for g in data["gaps"])
    for table in ("answers", "feedback", "settings", "protocols"):
        counts[table] = _upsert(conn, table, data[table])
    return counts, changed_keys


def import_kb(store: Store, path: str | Path, actor: str, reindex: Reindex | None = None) -> dict[str, int]:
    """Validate a backup file whole, merge it in one transaction, then reindex changed documents."""
    path = Path(path)
    _, data = read_backup(path)
    with store.write() as conn:
        counts, changed_keys = _merge(conn, data)
        Store.audit(conn, actor, "kb-import", "", file=path.name, counts=counts)
        if any(counts.values()):
            Store.bump_generation(conn)
    counts["reindexed"], counts["reindex_failed"] = _reindex_all(store, changed_keys, reindex)
    return counts


def _reindex_all(store: Store, keys: list[str], reindex: Reindex | None) -> tuple[int, int]:
    """Rebuild chunks for each changed document; a removed document stays removed. Returns (done, failed)."""
    if reindex is None:
        return 0, 0
    done = failed = 0
    for key in keys:
        status = store.conn.execute("SELECT status FROM documents WHERE key=?", (key,)).fetchone()[0]
        try:
            reindex(store, key)
        except ComputeDeskError as exc:
            log.warning("reindex after import failed for %s: %s", key, exc)
            failed += 1
            continue
        if status == "removed":
            with store.write() as conn:
                conn.execute("UPDATE documents SET status='removed' WHERE key=?", (key,))
                Store.bump_generation(conn)
        done += 1
    return done, failed

"""The embedded store: one SQLite file (WAL) holding documents, their versions, chunks, an FTS5 index,
embeddings, the audit log, gaps, feedback, settings, protocol additions and the metrics cache.

Connections are per thread (the bot answers from worker threads while a moderator ingests); writes go
through `Store.write()`, one `BEGIN IMMEDIATE` transaction each, so a reader never sees half a document and a
crash never leaves one behind.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

log = logging.getLogger(__name__)

SCHEMA = Migrations("compute-desk")
BUSY_TIMEOUT_MS = 30_000


@SCHEMA()
def m001_core(db: sqlite_utils.Database) -> None:
    """Documents, versions, chunks (+FTS5), embeddings, audit, gaps, answers, feedback, settings."""
    db.executescript(
        """
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,          -- path relative to the ingested folder, or the URL
            protocol TEXT NOT NULL DEFAULT '',
            title TEXT NOT NULL DEFAULT '',
            source_url TEXT NOT NULL DEFAULT '',
            date TEXT NOT NULL DEFAULT '',
            origin TEXT NOT NULL DEFAULT 'file', -- pack | file | url | text
            content_hash TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL DEFAULT 'active', -- active | removed
            chunk_count INTEGER NOT NULL DEFAULT 0,
            added_by TEXT NOT NULL DEFAULT '',
            added_at TEXT NOT NULL,
            updated_by TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL
        );
        CREATE TABLE document_versions (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            version INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            protocol TEXT NOT NULL DEFAULT '',
            source_url TEXT NOT NULL DEFAULT '',
            date TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            created_by TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            UNIQUE(document_id, version)
        );
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            position INTEGER NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            section TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            embed_hash TEXT NOT NULL
        );
        CREATE INDEX chunks_document ON chunks(document_id, position);
        CREATE TABLE embeddings (
            hash TEXT PRIMARY KEY,             -- sha1 of model id + embedded text: never embed twice
            vector BLOB NOT NULL               -- float32, L2-normalised
        );
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            document_key TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE gaps (
            id INTEGER PRIMARY KEY,
            question_key TEXT NOT NULL UNIQUE,
            question TEXT NOT NULL,
            protocol TEXT NOT NULL DEFAULT '',
            count INTEGER NOT NULL DEFAULT 1,
            first_at TEXT NOT NULL,
            last_at TEXT NOT NULL,
            nearest TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE answers (
            id TEXT PRIMARY KEY,
            at TEXT NOT NULL,
            question TEXT NOT NULL,
            protocol TEXT NOT NULL DEFAULT '',
            declined INTEGER NOT NULL DEFAULT 0,
            confidence REAL NOT NULL DEFAULT 0,
            payload TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE feedback (
            answer_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            vote INTEGER NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (answer_id, user_id)
        );
        CREATE TABLE settings (
            scope TEXT NOT NULL,               -- 'global' or a Discord guild id
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (scope, key)
        );
        CREATE TABLE protocols (
            id TEXT PRIMARY KEY,
            data TEXT NOT NULL,
            added_by TEXT NOT NULL DEFAULT '',
            added_at TEXT NOT NULL
        );
        CREATE TABLE metrics_cache (
            source TEXT NOT NULL,              -- e.g. coingecko, akash_console, defillama
            key TEXT NOT NULL,                 -- e.g. 'market:render', 'history:akash'
            payload TEXT NOT NULL,             -- validated JSON
            fetched_at REAL NOT NULL,          -- unix seconds
            PRIMARY KEY (source, key)
        );
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta(key, value) VALUES ('generation', '0');
        """
    )
    db["chunks"].enable_fts(["text", "section", "title"], create_triggers=True, tokenize="porter unicode61")


def now_iso() -> str:
    """UTC now as ISO-8601 with seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Store:
    """A handle on one database file; safe to share between threads (each gets its own connection)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.memory = str(path) == ":memory:"
        if not self.memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()  # serialises writers inside this process
        SCHEMA.apply(self.db)

    # -- connections -------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            str(self.path) if not self.memory else ":memory:",
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # autocommit; write() opens explicit transactions
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if not self.memory:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        if self.memory:  # one shared in-memory database
            if not hasattr(self, "_shared"):
                self._shared = self._connect()
            return self._shared
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    @property
    def db(self) -> sqlite_utils.Database:
        """A sqlite-utils view of this thread's connection (for reads and schema work)."""
        db = getattr(self._local, "db", None)
        if db is None or db.conn is not self.conn:
            db = self._local.db = sqlite_utils.Database(self.conn)
        return db

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT); rolled back whole on any error."""
        with self._lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- small helpers -----------------------------------------------------------------------------
    def query(self, sql: str, params: tuple | list | dict = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        cols = [c[0] for c in cur.description or ()]
        return [dict(zip(cols, row)) for row in cur.fetchall()]

    def generation(self) -> int:
        """A counter bumped by every change to the knowledge base (caches key on it)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def bump_generation(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")

    @staticmethod
    def audit(conn: sqlite3.Connection, actor: str, action: str, key: str = "", **detail: Any) -> None:
        """Record who did what, when (call inside the same transaction as the change)."""
        conn.execute(
            "INSERT INTO audit(at, actor, action, document_key, detail) VALUES (?,?,?,?,?)",
            (now_iso(), actor or "unknown", action, key, json.dumps(detail, default=str)),
        )

    # -- settings ----------------------------------------------------------------------------------
    def get_setting(self, scope: str, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM settings WHERE scope=? AND key=?", (scope, key)).fetchone()
        return json.loads(row[0]) if row else default

    def set_setting(self, scope: str, key: str, value: Any, actor: str = "") -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO settings(scope, key, value) VALUES (?,?,?) "
                "ON CONFLICT(scope, key) DO UPDATE SET value=excluded.value",
                (scope, key, json.dumps(value)),
            )
            self.audit(conn, actor, "setting", "", scope=scope, setting=key, value=value)

    # -- health ------------------------------------------------------------------------------------
    def integrity_ok(self) -> bool:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def open_store(path: str | Path) -> Store:
    """Open (and create or migrate) the store at `path`."""
    return Store(path)

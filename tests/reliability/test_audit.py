"""Permissions and reversibility through the CLI: every path that changes the knowledge base (kb ingest,
remove, restore, restore --version, import, protocol add/remove) leaves an audit row naming `--actor`, and
every change can be undone: remove -> restore brings back identical answers, a replaced document's previous
version is restorable and served again. Refused commands (bad keys, versions, files) change nothing.

A watcher snapshots documents/chunks/protocols/audit before and after every command: a change without a new
audit row by the named actor fails the test, whatever command made it.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main

FIGURES = {"changes_audited": 0, "refusals": 0}
V1 = ("# Quokkaflux\n\nQuokkaflux is the escrow rebate that Akash providers receive after forty blocks of uptime.\n\n"
      "## Rates\n\nThe quokkaflux rebate pays two percent of every lease settlement back to the provider.\n")
V2 = ("# Quokkaflux\n\nQuokkaflux is now a governance bonus paid to validators who vote on every proposal.\n\n"
      "## Rates\n\nThe quokkaflux bonus pays nine percent of the community pool each quarter.\n")
QUESTION = "what is the quokkaflux rebate?"


def _state(db: Path) -> dict:
    conn = sqlite3.connect(str(db))
    try:
        return {
            "docs": conn.execute("SELECT key, status, version, content_hash, chunk_count FROM documents ORDER BY key").fetchall(),
            "chunks": conn.execute("SELECT count(*), coalesce(sum(length(text)), 0) FROM chunks").fetchone(),
            "protocols": conn.execute("SELECT id, data FROM protocols ORDER BY id").fetchall(),
            "audit": conn.execute("SELECT id, actor, action, document_key FROM audit ORDER BY id").fetchall(),
        }
    finally:
        conn.close()


class Cli:
    def __init__(self, db: Path, capsys) -> None:
        self.db = db
        self.capsys = capsys

    def run(self, *args: str, actor: str | None = None, group: str = "kb", expect: int = 0) -> str:
        before = _state(self.db) if self.db.exists() else None
        argv = ["--db", str(self.db), group] + (["--actor", actor] if actor else []) + list(args)
        code = main(argv)
        out = self.capsys.readouterr()
        assert "Traceback" not in out.err
        assert code == expect, f"{argv}: exit {code}: {out.err}"
        after = _state(self.db)
        if before is not None:
            changed = {k for k in ("docs", "chunks", "protocols") if before[k] != after[k]}
            new_audit = after["audit"][len(before["audit"]):]
            if changed:
                assert new_audit, f"{argv} changed {changed} without an audit row"
                # an import also brings the backup's own audit history and system:reindex rows
                by_actor = [row for row in new_audit if row[1] == actor]
                assert by_actor if "import" in args else len(by_actor) == len(new_audit), \
                    f"{argv}: audit actors {new_audit}"
                FIGURES["changes_audited"] += 1
            if expect != 0:
                assert not changed and not new_audit, f"refused {argv} still changed {changed}"
                assert out.err.startswith(("error: ", "failed: ")) and out.err.count("\n") == 1, out.err
                FIGURES["refusals"] += 1
        return out.out

    def ask(self) -> dict:
        before = _state(self.db)
        code = main(["--db", str(self.db), "ask", "--json", QUESTION])
        out = self.capsys.readouterr()
        assert code == 0, out.err
        after = _state(self.db)
        assert (before["docs"], before["chunks"], before["audit"]) == (after["docs"], after["chunks"], after["audit"])
        data = json.loads(out.out)
        return {"answer": data["answer"], "declined": data["declined"],
                "sources": [(s["path"], s["section"]) for s in data["sources"]]}

    def audit(self, key: str) -> list[tuple[str, str]]:
        return [(r[1], r[2]) for r in _state(self.db)["audit"] if r[3] == key]


@pytest.fixture
def cli(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COMPUTE_DESK_METRICS_ON_ASK", "0")
    return Cli(tmp_path / "kb.db", capsys)


@pytest.fixture
def docs(tmp_path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "quokka.md").write_text(V1)
    (folder / "other.md").write_text("# Other\n\nRender node operators are paid in RENDER for completed frames.\n")
    return folder


def test_every_change_is_audited_and_reversible(cli, docs, tmp_path):
    cli.run("ingest", str(docs), "--quiet", actor="mod:alice")
    assert cli.audit("quokka.md") == [("mod:alice", "add")]
    first = cli.ask()
    assert not first["declined"] and first["sources"][0][0] == "quokka.md", first
    assert "escrow rebate" in first["answer"]

    # remove -> restore: identical answers
    cli.run("remove", "quokka.md", actor="mod:bob")
    removed = cli.ask()
    assert "quokka.md" not in [p for p, _ in removed["sources"]]
    cli.run("remove", "quokka.md", actor="mod:bob", expect=1)  # already removed: refused, no change
    cli.run("restore", "quokka.md", actor="mod:carol")
    assert cli.ask() == first
    assert cli.audit("quokka.md")[-2:] == [("mod:bob", "remove"), ("mod:carol", "restore")]

    # replace the document: v2 served; its previous version is restorable and served again
    (docs / "quokka.md").write_text(V2)
    cli.run("ingest", str(docs), "--quiet", actor="mod:dave")
    second = cli.ask()
    assert "governance bonus" in second["answer"] or "nine percent" in second["answer"], second
    assert "escrow rebate" not in second["answer"]
    cli.run("restore", "quokka.md", actor="mod:erin")  # no --version: the previous one
    assert cli.ask() == first
    cli.run("restore", "quokka.md", "--version", "2", actor="mod:frank")
    assert cli.ask() == second
    cli.run("restore", "quokka.md", "--version", "1", actor="mod:gina")
    assert cli.ask() == first
    actions = cli.audit("quokka.md")
    assert [a for a, _ in actions[-4:]] == ["mod:dave", "mod:erin", "mod:frank", "mod:gina"]
    shown = json.loads(cli.run("show", "quokka.md", "--json"))
    # history is append-only: each restore is a new version carrying an old text; the current one is v1's
    hashes = [v["content_hash"] for v in shown["versions"]]
    assert len(set(hashes)) == 2 and shown["content_hash"] == hashes[0] and shown["version"] == len(hashes)

    # refusals: nothing changes, one line each
    cli.run("remove", "no/such.md", actor="mod:mallory", expect=1)
    cli.run("restore", "no/such.md", actor="mod:mallory", expect=1)
    cli.run("restore", "quokka.md", "--version", "99", actor="mod:mallory", expect=1)
    cli.run("restore", "other.md", actor="mod:mallory", expect=1)  # active, no earlier version
    cli.run("ingest", str(tmp_path / "missing-folder"), actor="mod:mallory", expect=1)
    bad = tmp_path / "bad.cdk.gz"
    bad.write_bytes(gzip.compress(b'{"kind": "document", "key": 1}\nnot json\n'))
    cli.run("import", str(bad), actor="mod:mallory", expect=1)
    (tmp_path / "notgzip.cdk.gz").write_bytes(b"\x00\x01 random")
    cli.run("import", str(tmp_path / "notgzip.cdk.gz"), actor="mod:mallory", expect=1)
    cli.run("remove", "akash", group="protocol", actor="mod:mallory", expect=1)  # shipped protocol

    # protocol add/remove are audited
    cli.run("add", "--id", "io-net", "--name", "io.net", "--ticker", "IO", group="protocol", actor="mod:ivy")
    cli.run("remove", "io-net", group="protocol", actor="mod:ivy")
    assert [(a, act) for a, act in cli.audit("io-net")] == [("mod:ivy", "protocol-add"), ("mod:ivy", "protocol-remove")]

    # export -> import into a fresh database: audited under the importer, same answers
    backup = tmp_path / "backup.cdk.gz"
    cli.run("export", str(backup))
    fresh = Cli(tmp_path / "fresh.db", cli.capsys)
    fresh.run("list")  # creates the database (starter pack)
    fresh.run("import", str(backup), actor="mod:hank")
    assert any(r[1:3] == ("mod:hank", "kb-import") for r in _state(fresh.db)["audit"])
    assert fresh.ask() == first


def test_report_figures(capsys):
    with capsys.disabled():
        print(f"\n[audit] audited changes: {FIGURES['changes_audited']}, refusals tested: {FIGURES['refusals']}")

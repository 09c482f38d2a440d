"""The console chat through stdin, as a script would use it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.chat import ConsoleChat, run_chat
from tests.bot.conftest import AKASH_DOC

ROOT = Path(__file__).resolve().parents[2]


def _chat(engine, text: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    assert run_chat(engine, io.StringIO(text), out, err) == 0
    return out.getvalue(), err.getvalue()


def test_questions_get_one_block_each_with_numbered_sources_and_no_prompt(engine):
    out, err = _chat(engine, "What is the take rate on Akash USDC leases?\nWho won the 1998 world cup?\n")
    blocks = out.strip().split("\n\n")
    assert not any(line.startswith(">") for line in out.splitlines())  # not a TTY: no prompt
    assert "Compute Desk chat" not in out  # and no banner
    assert "20 percent" in out and "[1]" in out
    assert "Sources:\n  [1] Akash leases" in out
    assert "logged as a knowledge gap" in out
    assert len(blocks) == 2, out
    assert err == ""
    assert any("world cup" in g["question"].lower() for g in engine.gaps())


def test_kb_commands_change_the_base_as_the_console_operator(engine, tmp_path):
    doc = tmp_path / "render.md"
    doc.write_text("# Render jobs\n\nRender node operators earn RENDER for completed frames.\n")
    out, err = _chat(engine, f"/kb add {doc} --protocol render --title 'Render jobs'\n/kb list\n"
                             "/kb remove text/akash-leases\n/kb history\n/kb gaps\n/quit\nnever read\n")
    assert "1 added" in out and "Render jobs" in out
    assert "removed text/akash-leases" in out
    history = engine.history()
    assert history[0]["action"] == "remove" and history[0]["actor"].startswith("console:")
    assert "never read" not in out and err == ""
    assert [d["key"] for d in engine.list_documents()] != ["text/akash-leases"]


def test_errors_go_to_stderr_and_the_chat_goes_on(engine):
    out, err = _chat(engine, "/kb remove no/such/doc\n/nonsense\n/metrics akash\nWhat is the Akash take rate?\n")
    assert "no document with key" in err and "unknown command /nonsense" in err
    assert "price: unavailable (CoinGecko" in out  # metrics: no source answers here, and it says which
    assert "Traceback" not in err
    assert "take rate" in out.lower()


def test_protocol_setting_and_help(engine):
    chat = ConsoleChat(engine, out=io.StringIO(), err=io.StringIO())
    chat.handle("/protocol akash")
    assert chat.protocol == "akash"
    chat.handle("/help")
    assert "/kb add" in chat.out.getvalue()


def test_compute_desk_chat_reads_stdin_in_a_subprocess(tmp_path):
    env = {**os.environ, "COMPUTE_DESK_DB": str(tmp_path / "c.db"), "COMPUTE_DESK_EMBEDDER": "hash",
           "COMPUTE_DESK_HOME": str(tmp_path)}
    setup = (f"from knowledge.engine import open_engine; e = open_engine(); "
             f"e.ingest_text({AKASH_DOC!r}, 'Akash leases', 'test:setup', protocol='akash')")
    subprocess.run([sys.executable, "-c", setup], env=env, cwd=ROOT, check=True, timeout=120)
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "chat"], input="What is the Akash USDC take rate?\n",
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "20 percent" in proc.stdout and "Sources:" in proc.stdout

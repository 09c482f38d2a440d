"""Secrets: tokens and API keys come only from the environment or `.env`, and are never logged, printed, put
in error messages or stored in the database.

A loopback server records what the app sends, so each test also proves the secret was really in play (it
reached the endpoint) while it stayed out of stdout, stderr (with `-v` debug logging) and the database.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from knowledge.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "DISCORD_TOKEN": "FAKEdiscordTOKEN.x9Q3.zz7Kq1",
    "COINGECKO_API_KEY": "CG-fake-key-5d1e9a",
    "TAOSTATS_API_KEY": "tao-fake-key-77aa01",
    "COMPUTE_DESK_LLM_API_KEY": "sk-fake-llm-key-3c8b2f",
}
FIGURES = {"cli_runs_checked": 0}


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every request with a 500 (a failing endpoint) and remembers the headers and path."""

    seen: list[str] = []

    def _fail(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        Recorder.seen.append(self.path + "\n" + str(self.headers))
        body = b'{"error": "boom"}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _fail

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def recorder():
    Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith("COMPUTE_DESK_")}
    env.update(COMPUTE_DESK_EMBEDDER="hash", COMPUTE_DESK_HOME=str(tmp_path / "home"),
               COMPUTE_DESK_DB=str(tmp_path / "kb.db"), PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def run_cli(tmp_path: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "-v", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    FIGURES["cli_runs_checked"] += 1
    return proc


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for name, value in SECRETS.items():
            assert value not in text, f"{name} leaked: ...{text[max(0, text.find(value) - 200):text.find(value) + 60]}"
            assert value[4:-4] not in text, f"part of {name} leaked"


def assert_db_clean(db: Path) -> None:
    raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())
    assert raw, "no database written"
    for name, value in SECRETS.items():
        assert value.encode() not in raw, f"{name} stored in the database"


def test_settings_repr_masks_every_secret(monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.discord_token == SECRETS["DISCORD_TOKEN"]  # read from the environment ...
    assert settings.llm_api_key == SECRETS["COMPUTE_DESK_LLM_API_KEY"]
    assert settings.coingecko_api_key == SECRETS["COINGECKO_API_KEY"]
    assert_no_secret(repr(settings), str(settings), f"{settings}", repr([settings]))  # ... never shown


def test_secrets_come_from_dotenv_and_the_environment_wins(tmp_path, monkeypatch):
    for name in SECRETS:  # load_dotenv writes into os.environ; make monkeypatch remove them afterwards
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in SECRETS.items() if k != "DISCORD_TOKEN")
                                   + "DISCORD_TOKEN=from-dotenv-token\n")
    monkeypatch.setenv("DISCORD_TOKEN", SECRETS["DISCORD_TOKEN"])  # the real environment wins over .env
    settings = load_settings()
    assert settings.coingecko_api_key == SECRETS["COINGECKO_API_KEY"]
    assert settings.llm_api_key == SECRETS["COMPUTE_DESK_LLM_API_KEY"]
    assert settings.discord_token == SECRETS["DISCORD_TOKEN"]
    assert_no_secret(repr(settings))


def test_no_secret_is_read_from_anywhere_else(tmp_path, monkeypatch):
    """Not from a .env in the data dir or beside the database: only the working directory's .env counts."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".env").write_text(f"COINGECKO_API_KEY={SECRETS['COINGECKO_API_KEY']}\n")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert load_settings(db_path=home / "kb.db").coingecko_api_key == ""


def test_llm_key_never_printed_when_the_endpoint_fails(tmp_path, recorder):
    env = _env(tmp_path, COMPUTE_DESK_LLM_URL=recorder + "/v1", COMPUTE_DESK_LLM_MODEL="fake-model",
               COMPUTE_DESK_LLM_API_KEY=SECRETS["COMPUTE_DESK_LLM_API_KEY"], COMPUTE_DESK_METRICS_ON_ASK="0")
    proc = run_cli(tmp_path, ["ask", "how does akash's take rate work?"], env)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "Sources:" in proc.stdout  # the extractive answer was kept
    assert any(f"Bearer {SECRETS['COMPUTE_DESK_LLM_API_KEY']}" in s for s in Recorder.seen), "the key was not used"
    assert "DEBUG" in proc.stderr  # -v really logged
    assert_no_secret(proc.stdout, proc.stderr)
    assert_db_clean(tmp_path / "kb.db")


def test_llm_key_never_printed_when_the_endpoint_is_closed(tmp_path):
    env = _env(tmp_path, COMPUTE_DESK_LLM_URL=f"http://127.0.0.1:{closed_port()}/v1",
               COMPUTE_DESK_LLM_MODEL="fake-model", COMPUTE_DESK_LLM_API_KEY=SECRETS["COMPUTE_DESK_LLM_API_KEY"],
               COMPUTE_DESK_METRICS_ON_ASK="0")
    for args in (["ask", "--json", "what is render's burn and mint equilibrium?"], ["ask", ""]):
        proc = run_cli(tmp_path, args, env)
        assert "Traceback" not in proc.stderr
        assert_no_secret(proc.stdout, proc.stderr)


def test_llm_key_from_dotenv_never_printed(tmp_path, recorder):
    (tmp_path / ".env").write_text(f"COMPUTE_DESK_LLM_API_KEY={SECRETS['COMPUTE_DESK_LLM_API_KEY']}\n"
                                   f"COMPUTE_DESK_LLM_URL={recorder}/v1\nCOMPUTE_DESK_LLM_MODEL=fake\n")
    proc = run_cli(tmp_path, ["ask", "how are akash providers paid?"], _env(tmp_path, COMPUTE_DESK_METRICS_ON_ASK="0"))
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert any(SECRETS["COMPUTE_DESK_LLM_API_KEY"] in s for s in Recorder.seen), ".env key was not used"
    assert_no_secret(proc.stdout, proc.stderr)


def test_metrics_keys_never_printed_when_sources_fail(tmp_path, recorder):
    env = _env(tmp_path, COINGECKO_API_KEY=SECRETS["COINGECKO_API_KEY"], TAOSTATS_API_KEY=SECRETS["TAOSTATS_API_KEY"],
               COMPUTE_DESK_METRICS_BASE_URLS=",".join(
                   f"{s}={recorder}" for s in ("coingecko", "akash_console", "defillama", "taostats")))
    proc = run_cli(tmp_path, ["metrics", "--refresh", "--retries", "0", "--timeout", "5"], env)
    assert "Traceback" not in proc.stderr, proc.stderr[-1500:]
    assert any(SECRETS["COINGECKO_API_KEY"] in s for s in Recorder.seen), "the CoinGecko key was not used"
    assert_no_secret(proc.stdout, proc.stderr)
    assert_db_clean(tmp_path / "kb.db")
    # and a metric question that refreshes on ask
    proc = run_cli(tmp_path, ["ask", "what is the price of RENDER?"], {**env, "COMPUTE_DESK_METRICS_ON_ASK": "1"})
    assert "Traceback" not in proc.stderr
    assert_no_secret(proc.stdout, proc.stderr)


@pytest.mark.parametrize("token", [SECRETS["DISCORD_TOKEN"], "Bot " + SECRETS["DISCORD_TOKEN"],
                                   '"' + SECRETS["DISCORD_TOKEN"] + '"'])
def test_bot_token_never_printed_on_a_failed_start(tmp_path, token):
    """A well-formed token that cannot reach Discord (no network here), and malformed ones: one line each."""
    env = _env(tmp_path, DISCORD_TOKEN=token)
    proc = run_cli(tmp_path, ["bot"], env)
    assert proc.returncode == 2, proc.stderr[-1500:]
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "DISCORD_TOKEN" in last or "reach Discord" in last, last
    assert_no_secret(proc.stdout, proc.stderr)


def test_report_figures(capsys):
    with capsys.disabled():
        print(f"\n[secrets] CLI runs with -v checked for leaks: {FIGURES['cli_runs_checked']}")

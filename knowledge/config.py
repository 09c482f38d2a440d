"""Settings, read in one place from the environment (and a `.env` file beside the working directory).

Secrets (tokens, API keys) live only here and are never logged: `Settings.__repr__` masks them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import platformdirs

APP_NAME = "compute-desk"
_SECRET_FIELDS = {"discord_token", "coingecko_api_key", "taostats_api_key", "dune_api_key", "llm_api_key"}


def _load_dotenv() -> None:
    """Load `.env` from the working directory without overriding the real environment."""
    try:
        from dotenv import load_dotenv
    except ImportError:  # pragma: no cover - python-dotenv is a dependency
        return
    load_dotenv(Path.cwd() / ".env", override=False)


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_float(name: str, default: float) -> float:
    try:
        return float(_env(name) or default)
    except ValueError:
        return default


def _env_int(name: str, default: int) -> int:
    try:
        return int(_env(name) or default)
    except ValueError:
        return default


def data_dir() -> Path:
    """The user's data directory (override with COMPUTE_DESK_HOME)."""
    home = _env("COMPUTE_DESK_HOME")
    return Path(home) if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    """COMPUTE_DESK_DB, else `<data dir>/compute-desk.db`."""
    explicit = _env("COMPUTE_DESK_DB")
    return Path(explicit) if explicit else data_dir() / "compute-desk.db"


@dataclass(frozen=True)
class Settings:
    """Every setting Compute Desk reads; `.env.example` documents each one."""

    db_path: Path = field(default_factory=default_db_path)
    embedder: str = "auto"  # auto | onnx | torch | hash (hash: tests only, no model)
    # Answering
    # Set on the dev set, between the most confident unanswerable question (0.23) and the least confident
    # answerable one (0.34). Within that gap it sits low: on the second question set (benchmarks/questions/
    # check.jsonl) answerable questions come as low as 0.27 and no unanswerable one falls in the gap.
    decline_threshold: float = 0.25
    # Optional LLM synthesis (OpenAI-compatible chat endpoint); off unless both are set.
    llm_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout_s: float = 20.0
    # Ingestion limits
    max_file_mb: float = 20.0
    max_url_mb: float = 10.0
    url_timeout_s: float = 15.0
    url_max_redirects: int = 5
    allow_loopback_urls: bool = False  # tests only: lets URL ingestion reach 127.0.0.1
    # Metrics
    coingecko_api_key: str = ""
    taostats_api_key: str = ""
    dune_api_key: str = ""
    # Dune queries behind metrics: `protocol:metric=query_id[:column],...` (knowledge/metrics/dune.py)
    dune_queries: str = ""
    metrics_ttl_s: int = 300
    metrics_base_urls: str = ""  # tests: "coingecko=http://127.0.0.1:1234,akash=..." overrides API hosts
    metrics_on_ask: bool = True  # a metric question may fetch a figure older than the TTL (False: cache only)
    # Discord
    discord_token: str = ""
    discord_guild_id: str = ""
    discord_shards: int = 0  # 0: one process, unsharded; >0 or -1 (auto): AutoShardedBot
    ask_workers: int = 2

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _SECRET_FIELDS and value:
                value = "***"
            parts.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(parts)})"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_url and self.llm_model)


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment (after `.env`); keyword overrides win."""
    _load_dotenv()
    values: dict[str, object] = dict(
        db_path=default_db_path(),
        embedder=_env("COMPUTE_DESK_EMBEDDER", "auto") or "auto",
        decline_threshold=_env_float("COMPUTE_DESK_DECLINE_THRESHOLD", Settings.decline_threshold),
        llm_url=_env("COMPUTE_DESK_LLM_URL"),
        llm_model=_env("COMPUTE_DESK_LLM_MODEL"),
        llm_api_key=_env("COMPUTE_DESK_LLM_API_KEY"),
        llm_timeout_s=_env_float("COMPUTE_DESK_LLM_TIMEOUT", Settings.llm_timeout_s),
        max_file_mb=_env_float("COMPUTE_DESK_MAX_FILE_MB", Settings.max_file_mb),
        max_url_mb=_env_float("COMPUTE_DESK_MAX_URL_MB", Settings.max_url_mb),
        url_timeout_s=_env_float("COMPUTE_DESK_URL_TIMEOUT", Settings.url_timeout_s),
        url_max_redirects=_env_int("COMPUTE_DESK_URL_MAX_REDIRECTS", Settings.url_max_redirects),
        allow_loopback_urls=_env("COMPUTE_DESK_ALLOW_LOOPBACK_URLS") in {"1", "true", "yes"},
        coingecko_api_key=_env("COINGECKO_API_KEY"),
        taostats_api_key=_env("TAOSTATS_API_KEY"),
        dune_api_key=_env("DUNE_API_KEY"),
        dune_queries=_env("COMPUTE_DESK_DUNE_QUERIES"),
        metrics_ttl_s=_env_int("COMPUTE_DESK_METRICS_TTL", Settings.metrics_ttl_s),
        metrics_base_urls=_env("COMPUTE_DESK_METRICS_BASE_URLS"),
        metrics_on_ask=_env("COMPUTE_DESK_METRICS_ON_ASK", "1") not in {"0", "false", "no"},
        discord_token=_env("DISCORD_TOKEN"),
        discord_guild_id=_env("DISCORD_GUILD_ID"),
        discord_shards=_env_int("COMPUTE_DESK_SHARDS", 0),
        ask_workers=_env_int("COMPUTE_DESK_ASK_WORKERS", Settings.ask_workers),
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]

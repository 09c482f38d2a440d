"""Shared test set-up: no network, no real model unless a test asks for it, a fresh database per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"

# Tests use the tiny deterministic embedder unless marked otherwise; never the network.
os.environ.setdefault("COMPUTE_DESK_EMBEDDER", "hash")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Each test gets its own data dir and database; a user's real database is never touched."""
    monkeypatch.setenv("COMPUTE_DESK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COMPUTE_DESK_DB", str(tmp_path / "home" / "test.db"))
    for secret in ("DISCORD_TOKEN", "COINGECKO_API_KEY", "TAOSTATS_API_KEY", "DUNE_API_KEY"):
        monkeypatch.delenv(secret, raising=False)
    monkeypatch.chdir(tmp_path)  # so no developer's .env is read
    yield


@pytest.fixture
def corpus() -> Path:
    """The shared corpus, or a clean skip where it is absent (a user's clone without ../shared)."""
    if not (CORPUS / "MANIFEST.tsv").exists():
        pytest.skip("../shared/corpus is not beside this checkout")
    return CORPUS

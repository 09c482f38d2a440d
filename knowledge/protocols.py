"""The protocol registry: shipped protocols (protocols.toml) plus additions stored in the database.

Retrieval (which protocol a question names), metrics (which ids to fetch) and scoring all read this.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from knowledge.errors import BadInputError, NotFoundError

if TYPE_CHECKING:
    from knowledge.store import Store

_ID_RE = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")


@dataclass(frozen=True)
class Protocol:
    """One protocol: how it is named in questions and where its data comes from."""

    id: str
    name: str
    tickers: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    coingecko_id: str = ""
    defillama_slug: str = ""
    usage_sources: tuple[str, ...] = ()
    focus: str = ""
    emission: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("tickers", "aliases", "patterns", "usage_sources"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Protocol":
        pid = str(data.get("id", "")).strip().lower()
        if not _ID_RE.match(pid):
            raise BadInputError(f"protocol id {pid!r}: use 2-32 lower-case letters, digits, '-' or '_'")
        name = str(data.get("name") or pid).strip()
        patterns = tuple(str(p) for p in data.get("patterns", ()))
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise BadInputError(f"protocol {pid}: bad pattern {pattern!r} ({exc})") from None
        return cls(
            id=pid,
            name=name,
            tickers=tuple(str(t).upper() for t in data.get("tickers", ())),
            aliases=tuple(str(a).lower() for a in data.get("aliases", ())),
            patterns=patterns,
            coingecko_id=str(data.get("coingecko_id", "")),
            defillama_slug=str(data.get("defillama_slug", "")),
            usage_sources=tuple(str(s) for s in data.get("usage_sources", ())),
            focus=str(data.get("focus", "")),
            emission=dict(data.get("emission", {})),
        )

    def names(self) -> list[str]:
        """Every lower-case word or phrase that names this protocol."""
        return sorted({self.id, self.name.lower(), *self.aliases, *(t.lower() for t in self.tickers)})


@lru_cache(maxsize=1)
def shipped_protocols() -> tuple[Protocol, ...]:
    """The protocols that ship with the package."""
    text = resources.files("knowledge").joinpath("protocols.toml").read_text(encoding="utf-8")
    return tuple(Protocol.from_dict(p) for p in tomllib.loads(text).get("protocol", []))


class Registry:
    """Shipped protocols plus the database's additions; lookups by id, name, ticker or alias."""

    def __init__(self, protocols: list[Protocol] | tuple[Protocol, ...]) -> None:
        self.protocols: dict[str, Protocol] = {p.id: p for p in protocols}
        self._matchers = [(p.id, _matcher(p)) for p in self.protocols.values()]

    def __iter__(self):
        return iter(self.protocols.values())

    def ids(self) -> list[str]:
        return list(self.protocols)

    def get(self, key: str) -> Protocol:
        """Find a protocol by id, name, ticker or alias (case-insensitive)."""
        needle = (key or "").strip().lower()
        if needle in self.protocols:
            return self.protocols[needle]
        for proto in self.protocols.values():
            if needle in proto.names():
                return proto
        raise NotFoundError(f"unknown protocol {key!r}; known: {', '.join(self.ids())}")

    def detect(self, text: str) -> list[str]:
        """Ids of the protocols a text names, most mentions first."""
        lowered = (text or "").lower()
        hits = []
        for pid, regex in self._matchers:
            count = len(regex.findall(lowered))
            if count:
                hits.append((count, pid))
        return [pid for _, pid in sorted(hits, key=lambda h: -h[0])]


def _matcher(proto: Protocol) -> re.Pattern[str]:
    words = sorted(proto.names(), key=len, reverse=True)
    alternatives = [r"\b" + re.escape(w) + r"\b" for w in words] + list(proto.patterns)
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


def load_registry(store: "Store | None" = None) -> Registry:
    """The registry: shipped protocols, then those stored in the database (which may override)."""
    protocols = {p.id: p for p in shipped_protocols()}
    if store is not None:
        for row in store.db["protocols"].rows if store.db["protocols"].exists() else []:
            protocols[row["id"]] = Protocol.from_dict(json.loads(row["data"]))
    return Registry(list(protocols.values()))

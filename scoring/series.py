"""The daily market/usage series that scoring works on, and a tolerant-but-strict CSV loader for it."""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge.errors import BadInputError

COLUMNS = ("price", "market_cap", "volume", "usage_usd", "circulating_supply")


@dataclass
class Series:
    """Daily rows: sorted unique dates and float arrays (NaN where a figure is missing)."""

    dates: list[dt.date]
    price: np.ndarray
    market_cap: np.ndarray
    volume: np.ndarray
    usage_usd: np.ndarray
    circulating_supply: np.ndarray
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        n = len(self.dates)
        for name in COLUMNS:
            arr = np.asarray(getattr(self, name), dtype=float).reshape(-1)
            if arr.size == 0 and n:
                arr = np.full(n, np.nan)
            if arr.size != n:
                raise BadInputError(f"column {name} has {arr.size} values for {n} dates")
            setattr(self, name, arr)
        # Market cap is what the score reads; derive it from price x supply where it is missing.
        derived = self.price * self.circulating_supply
        self.market_cap = np.where(np.isfinite(self.market_cap), self.market_cap, derived)

    def __len__(self) -> int:
        return len(self.dates)

    def head(self, n: int) -> "Series":
        """The first n rows (used to check that scores never look ahead)."""
        return Series(list(self.dates[:n]), *(getattr(self, c)[:n] for c in COLUMNS), source=self.source)

    @property
    def has_usage(self) -> bool:
        """True when at least one usage figure is present."""
        return bool(np.isfinite(self.usage_usd).any())


def _parse_date(text: str) -> dt.date:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    # ISO timestamps such as 2024-01-02T00:00:00Z keep only their date.
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise ValueError(f"unreadable date {text!r}") from None


def _parse_number(text: str) -> float:
    text = text.strip().replace(",", "").replace("$", "").replace("_", "")
    if not text or text.lower() in {"na", "nan", "null", "none", "-"}:
        return math.nan
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"bad number {text!r}")
    return value


def load_csv(path: str | Path) -> Series:
    """Read `date,price,market_cap,volume,usage_usd,circulating_supply` rows; BadInputError says what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    rows = list(csv.reader(text.splitlines()))
    header_at = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    if header_at is None:
        raise BadInputError(f"{path}: empty file")
    header = [c.strip().lower() for c in rows[header_at]]
    if "date" not in header:
        raise BadInputError(f"{path}: no 'date' column (header is {','.join(header)})")
    if "price" not in header and "market_cap" not in header:
        raise BadInputError(f"{path}: needs a 'price' or 'market_cap' column")
    index = {name: header.index(name) for name in ("date", *COLUMNS) if name in header}
    by_date: dict[dt.date, list[float]] = {}
    errors: list[str] = []
    for number, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        if not any(c.strip() for c in row):
            continue
        try:
            cells = row + [""] * (len(header) - len(row))
            day = _parse_date(cells[index["date"]])
            values = [_parse_number(cells[index[c]]) if c in index else math.nan for c in COLUMNS]
        except (ValueError, IndexError) as exc:
            errors.append(f"line {number}: {exc}")
            continue
        if day in by_date:
            errors.append(f"line {number}: duplicate date {day.isoformat()}")
            continue
        by_date[day] = values
    if errors:
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise BadInputError(f"{path}: " + "; ".join(errors[:5]) + more)
    if not by_date:
        raise BadInputError(f"{path}: no data rows")
    dates = sorted(by_date)  # unsorted input is accepted and sorted
    table = np.array([by_date[d] for d in dates], dtype=float).reshape(len(dates), len(COLUMNS))
    series = Series(dates, *(table[:, i] for i in range(len(COLUMNS))), source=str(path))
    if not np.isfinite(series.market_cap).any() and not np.isfinite(series.price).any():
        raise BadInputError(f"{path}: every price and market_cap cell is empty")
    return series

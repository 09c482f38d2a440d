"""Tolerant loader for the 1kx monthly reward (emission) CSVs: thousands separators, %, $, blank cells/rows.

Each file becomes a MonthlySeries of emissions in USD (tokens x monthly price where no $ column is filled).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from pathlib import Path

import numpy as np

from knowledge.errors import BadInputError
from scoring.sustainability import MonthlySeries

SOURCE = "1kx DePIN tokenomics research (monthly reward figures)"
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}


def parse_number(text: str) -> float:
    """'1,247,905.58', '$2.80', '54.00%' (-> 0.54), '' (-> NaN)."""
    t = (text or "").strip().replace(",", "").replace("$", "").replace(" ", "")
    if not t or t in {"-", "n/a", "NA"}:
        return math.nan
    percent = t.endswith("%")
    try:
        value = float(t.rstrip("%"))
    except ValueError:
        return math.nan
    return value / 100 if percent else value


def parse_month(text: str) -> dt.date | None:
    """'Sep 2020', '11/2021', '2024-2', '2023-11' -> first day of that month; None if not a month."""
    t = (text or "").strip()
    m = re.fullmatch(r"([A-Za-z]{3})[a-z]*\.?\s+(\d{4})", t)
    if m and m.group(1).lower() in _MONTHS:
        return dt.date(int(m.group(2)), _MONTHS[m.group(1).lower()], 1)
    m = re.fullmatch(r"(\d{1,2})/(\d{4})", t)
    if m and 1 <= int(m.group(1)) <= 12:
        return dt.date(int(m.group(2)), int(m.group(1)), 1)
    m = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-\d{1,2})?", t)
    if m and 1 <= int(m.group(2)) <= 12:
        return dt.date(int(m.group(1)), int(m.group(2)), 1)
    return None


def _find(header: list[str], *patterns: str) -> int | None:
    for pattern in patterns:
        for i, name in enumerate(header):
            if re.search(pattern, name, flags=re.I):
                return i
    return None


def load_monthly_emissions(path: str | Path) -> MonthlySeries:
    """Read one of the three reward CSVs (Akash, Bittensor, Render) into monthly emissions in USD."""
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    # The header is the first row with a month-like first column name; leading blank rows are skipped.
    at = next((i for i, r in enumerate(rows) if r and re.fullmatch(r"(?i)date|month", r[0].strip())), None)
    if at is None:
        raise BadInputError(f"{path}: no header row starting with Date or Month")
    header = [c.strip() for c in rows[at]]
    usd_col = _find(header, r"rewards? \(\$\)", r"^\$ ?rewards$", r"^rewards \$$")
    price_col = _find(header, r"\$-?\s*price", r"^price$")
    token_col = _find(header, r"token rewards \((akt|tao|render)\)", r"^node operator rewards \+",
                      r"^250000$|issuance$")
    mined_col = _find(header, r"mined")  # Akash: newly mined AKT, where the reward delta is blank
    if usd_col is None and (price_col is None or token_col is None):
        raise BadInputError(f"{path}: cannot find a USD reward column or token rewards with a price")
    months, usd, tokens = [], [], []
    for row in rows[at + 1:]:
        cells = row + [""] * (len(header) - len(row))
        month = parse_month(cells[0])
        if month is None:
            continue  # blank or note rows
        token = parse_number(cells[token_col]) if token_col is not None else math.nan
        if not math.isfinite(token) and mined_col is not None:
            token = parse_number(cells[mined_col])
        value = parse_number(cells[usd_col]) if usd_col is not None else math.nan
        price = parse_number(cells[price_col]) if price_col is not None else math.nan
        if not math.isfinite(value) and math.isfinite(token) and math.isfinite(price):
            value = token * price
        months.append(month)
        usd.append(value)
        tokens.append(token)
    if not months:
        raise BadInputError(f"{path}: no monthly rows")
    return MonthlySeries(months, np.array(usd, dtype=float), f"{SOURCE}: {path.name}", np.array(tokens, dtype=float))

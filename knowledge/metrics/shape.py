"""Small strict checks used by the source validators: a wrong shape raises `ShapeError` (rejected whole)."""

from __future__ import annotations

import math
from typing import Any

from knowledge.metrics.http import ShapeError


def need_dict(data: Any, what: str) -> dict[str, Any]:
    """`data` when it is a JSON object."""
    if not isinstance(data, dict):
        raise ShapeError(f"{what}: expected an object, got {type(data).__name__}")
    return data


def need_list(data: Any, what: str) -> list[Any]:
    """`data` when it is a JSON array."""
    if not isinstance(data, list):
        raise ShapeError(f"{what}: expected a list, got {type(data).__name__}")
    return data


def number(value: Any, what: str, required: bool = False, nonneg: bool = True) -> float | None:
    """A finite number (numeric strings accepted); None when absent and not required."""
    if value is None or value == "":
        if required:
            raise ShapeError(f"{what}: missing")
        return None
    if isinstance(value, bool):
        raise ShapeError(f"{what}: expected a number, got a boolean")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ShapeError(f"{what}: expected a number, got {value[:20]!r}") from None
    if not isinstance(value, (int, float)):
        raise ShapeError(f"{what}: expected a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ShapeError(f"{what}: not a finite number")
    if nonneg and value < 0:
        raise ShapeError(f"{what}: negative ({value:g})")
    return value


def pairs(data: Any, what: str, allow_empty: bool = True) -> list[list[float]]:
    """[[timestamp, value], ...] with numeric timestamps; pairs with a null value are dropped."""
    rows = need_list(data, what)
    out: list[list[float]] = []
    for i, row in enumerate(rows):
        if not isinstance(row, (list, tuple)) or len(row) < 2:
            raise ShapeError(f"{what}[{i}]: expected [timestamp, value]")
        ts = number(row[0], f"{what}[{i}] timestamp", required=True)
        if row[1] is None:
            continue
        out.append([ts, number(row[1], f"{what}[{i}] value", required=True)])
    if not out and not allow_empty:
        raise ShapeError(f"{what}: empty")
    return out

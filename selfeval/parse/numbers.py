"""Printed numbers of the funds, weights, scores and totals -> floats.

Only plain numbers live here (万元 amounts, 分值, 得分, 执行率). Indicator
targets and actuals, with comparators and units, are parsed in values.py.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from selfeval.vocab.labels import is_empty
from selfeval.vocab.value_sets import MAX_VALUE

_PLAIN = re.compile(r"^[+-]?\d+(\.\d+)?%?$")
# Every column read here (万元 amounts, points, rates) is >= 0 in the schema, and no
# project is worth 10^12 万元. A negative or huge printed number used to pass through
# and fail the whole run: a negative amount broke pandera's >= 0 check, and a
# 400-digit one became inf (and crashed scoring's Decimal rounding). Found by
# tests/test_fuzz.py; such a cell is now "out of range" and left empty.


@lru_cache(maxsize=1 << 16)  # pure, and the same cells recur ("10", "100", "—")
def parse_number(raw: str | None) -> tuple[float | None, str | None]:
    """Return (value, repair). repair is None when the cell was clean,
    "unreadable" when it is not a number, "out of range" when it is negative
    or above MAX_VALUE (value None for both), else a note of what was repaired.

    A percentage keeps its printed magnitude ("99.74%" -> 99.74, "10%" -> 10):
    weights printed "10%" mean 10 points; execution rates are turned into
    fractions by the caller, which knows the column.
    """
    if raw is None or is_empty(raw):
        return None, None
    text = unicodedata.normalize("NFKC", raw).strip()
    repairs = []
    squeezed = re.sub(r"\s+", "", text)
    if squeezed != text:
        repairs.append(f"stray spaces removed from {raw!r}")
    squeezed = squeezed.replace(",", "")
    if not _PLAIN.match(squeezed):
        return None, "unreadable"
    if squeezed.endswith("%"):
        squeezed = squeezed[:-1]
    value = float(squeezed)
    if not 0 <= value <= MAX_VALUE:  # also false for inf
        return None, "out of range"
    return value, "; ".join(repairs) or None

"""Printed numbers of the funds, weights, scores and totals -> floats.

Only plain numbers live here (万元 amounts, 分值, 得分, 执行率). Indicator
targets and actuals, with comparators and units, are parsed in values.py.
"""
from __future__ import annotations

import re
import unicodedata

from selfeval.vocabulary import is_empty

_PLAIN = re.compile(r"^[+-]?\d+(\.\d+)?%?$")


def parse_number(raw: str | None) -> tuple[float | None, str | None]:
    """Return (value, repair). repair is None when the cell was clean,
    "unreadable" when it is not a number, else a note of what was repaired.

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
    return float(squeezed), "; ".join(repairs) or None

"""Excel .xlsx/.xls -> lines: every sheet's used rows, one line per row (python-calamine).

A merged range holds its value in its top-left cell only (Excel stores it there; calamine
returns the other cells empty), so it is read once with "" in the positions it covers.
Numbers are printed as Excel's General format shows them: at most 10 significant digits,
so binary noise (12.500000001, 0.30000000000000004) reads 12.5 and 0.3, and whole numbers
without ".0". calamine does not expose number formats: a cell formatted as a percentage
(0.9974 shown as 99.74%) or with fixed decimals (128.1 shown as 128.10) is read as its
value, 0.9974 or 128.1; text cells are read as typed.
"""
from __future__ import annotations

import datetime as dt
import io

from selfeval.extract.formats import Document, Line, ReadError, clean_cell

_FIX = "open it in Excel and save it again as .xlsx, or ask for a new copy"


def read(name: str, data: bytes, kind: str) -> Document:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types for every kind of damage
        raise ReadError(f"{name}: damaged or not an Excel .{kind} workbook ({_reason(exc)}); {_FIX}") from None
    lines: list[Line] = []
    for sheet_name in workbook.sheet_names:
        try:
            sheet = workbook.get_sheet_by_name(sheet_name)
            rows = sheet.to_python(skip_empty_area=False)  # from A1, so merged ranges' coordinates apply
            merged = sheet.merged_cell_ranges or []
        except Exception as exc:
            raise ReadError(f"{name}: sheet {sheet_name!r} cannot be read ({_reason(exc)}); {_FIX}") from None
        covered = {(r, c) for (r0, c0), (r1, c1) in merged for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)
                   if (r, c) != (r0, c0)}
        for number, row in enumerate(rows, start=1):
            # a merged range is read once, from its top-left cell, even if a writer left copies under it
            cells = ["" if (number - 1, column) in covered else clean_cell(shown(value))
                     for column, value in enumerate(row)]
            if any(cells):
                lines.append(Line(cells, f"sheet {sheet_name}, row {number}"))
    if not lines:
        sheets = ", ".join(workbook.sheet_names) or "none"
        raise ReadError(f"{name}: the workbook has no filled cell (sheets: {sheets}), no self-evaluation form found; "
                        "check that this is the right file")
    return Document(kind, lines)


def shown(value) -> str:
    """A cell's value as Excel's General format shows it."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        text = f"{value:.10g}"
        if "e" in text:  # General shows small and huge numbers in full up to 11 characters
            text = f"{value:.10f}".rstrip("0").rstrip(".") if abs(value) < 1e11 else text
        return text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__

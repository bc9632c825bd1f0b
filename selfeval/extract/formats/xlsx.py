"""Excel .xlsx/.xls -> lines: every sheet's used rows, one line per row (python-calamine).

A merged range holds its value in its top-left cell only (Excel stores it there; calamine
returns the other cells empty), so it is read once with "" in the positions it covers.
Numbers are printed as the sheet shows them. calamine gives values, not number formats, so
for .xlsx the formats are read from the workbook's XML (styles.xml and each sheet's cell
styles): a percentage format shows 0.9974 as 99.74% (the form's 执行率 then reads as printed,
not as 0.9974, which the parser would take for 0.9974%), a fixed-decimal format shows 128.1
as 128.10; thousands separators are left out (1234.50, not 1,234.50). Other numbers are
printed as Excel's General format shows them: at most 10 significant digits, so binary
noise (12.500000001, 0.30000000000000004) reads 12.5 and 0.3, whole numbers without ".0".
A .xls (BIFF) is read through calamine alone: its formats are not read. Text cells are read
as typed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from selfeval.extract.formats import Document, Line, ReadError, clean_cell

_FIX = "open it in Excel and save it again as .xlsx, or ask for a new copy"


def read(name: str, data: bytes, kind: str) -> Document:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types for every kind of damage
        raise ReadError(f"{name}: damaged or not an Excel .{kind} workbook ({_reason(exc)}); {_FIX}") from None
    formats = number_formats(data) if kind == "xlsx" else {}
    lines: list[Line] = []
    for sheet_name in workbook.sheet_names:
        sheet_formats = formats.get(sheet_name, {})
        try:
            sheet = workbook.get_sheet_by_name(sheet_name)
            rows = sheet.to_python(skip_empty_area=False)  # from A1, so merged ranges' coordinates apply
            merged = sheet.merged_cell_ranges or []
        except Exception as exc:
            raise ReadError(f"{name}: sheet {sheet_name!r} cannot be read ({_reason(exc)}); {_FIX}") from None
        covered = {
            (r, c)
            for (r0, c0), (r1, c1) in merged
            for r in range(r0, r1 + 1)
            for c in range(c0, c1 + 1)
            if (r, c) != (r0, c0)
        }
        for number, row in enumerate(rows, start=1):
            # a merged range is read once, from its top-left cell, even if a writer left copies under it
            cells = [
                ""
                if (number - 1, column) in covered
                else clean_cell(shown(value, sheet_formats.get((number - 1, column))))
                for column, value in enumerate(row)
            ]
            if any(cells):
                lines.append(Line(cells, f"sheet {sheet_name}, row {number}"))
    if not lines:
        sheets = ", ".join(workbook.sheet_names) or "none"
        raise ReadError(
            f"{name}: the workbook has no filled cell (sheets: {sheets}), no self-evaluation form found; "
            "check that this is the right file"
        )
    return Document(kind, lines)


def shown(value, number_format: tuple[bool, int] | None = None) -> str:
    """A cell's value as the sheet shows it: number_format (percent, decimals) when the
    cell has a percentage or fixed-decimal format, else Excel's General format."""
    if number_format is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        percent, decimals = number_format
        return f"{value * 100:.{decimals}f}%" if percent else f"{value:.{decimals}f}"
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


# --- number formats of an .xlsx (calamine does not give them) ---------------------------------

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
# Excel's built-in number formats that show a number other than as General
_BUILTIN = {1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%"}
_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")
_DATE_OR_TEXT = re.compile(r"[yYmMdDhHsSeE@]")


def number_formats(data: bytes) -> dict[str, dict[tuple[int, int], tuple[bool, int]]]:
    """{sheet name: {(row, column) 0-based: (percent, decimals)}} for the numeric cells whose
    format is a percentage or has fixed decimals. Empty when the XML cannot be read: the
    values are then printed as General (the formats only refine how they are shown)."""
    from lxml import etree

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            styles = etree.fromstring(archive.read("xl/styles.xml")) if "xl/styles.xml" in names else None
            if styles is None:
                return {}
            codes = dict(_BUILTIN)
            for numfmt in styles.iter(f"{_MAIN}numFmt"):
                codes[int(numfmt.get("numFmtId", -1))] = numfmt.get("formatCode", "")
            xfs = styles.find(f"{_MAIN}cellXfs")
            by_style = [_shown_as(codes.get(int(xf.get("numFmtId", 0)))) for xf in (xfs if xfs is not None else [])]
            if not any(by_style):
                return {}
            workbook = etree.fromstring(archive.read("xl/workbook.xml"))
            rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
            result = {}
            for sheet in workbook.iter(f"{_MAIN}sheet"):
                target = targets.get(sheet.get(f"{_REL}id"), "")
                path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                if path in names:
                    result[sheet.get("name")] = _sheet_formats(archive.read(path), by_style)
            return result
    except Exception:  # a damaged styles part must not lose the workbook's values
        return {}


def _sheet_formats(xml: bytes, by_style: list) -> dict[tuple[int, int], tuple[bool, int]]:
    from lxml import etree

    formats = {}
    for _, cell in etree.iterparse(io.BytesIO(xml), tag=f"{_MAIN}c"):
        style = cell.get("s")
        if style is not None and cell.get("t", "n") == "n" and int(style) < len(by_style) and by_style[int(style)]:
            match = _CELL_REF.match(cell.get("r", ""))
            if match:
                column = 0
                for letter in match.group(1):
                    column = column * 26 + ord(letter) - 64
                formats[(int(match.group(2)) - 1, column - 1)] = by_style[int(style)]
        cell.clear()
    return formats


def _shown_as(code: str | None) -> tuple[bool, int] | None:
    """(percent, decimals) of a number format code, None for General, dates and text."""
    if not code or code.lower() == "general":
        return None
    section = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code.split(";")[0])  # quoted text, escapes, [colours]
    if _DATE_OR_TEXT.search(section) or not re.search(r"[0#?]", section):
        return None
    fraction = re.search(r"\.([0#?]+)", section)
    return "%" in section, len(fraction.group(1)) if fraction else 0

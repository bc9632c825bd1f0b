"""Documents as agencies publish them -> the tab-separated text the form parser reads.

One reader per format (docx.py, xlsx.py, pdf.py, html.py; .doc and RTF through LibreOffice), each
turning a document into `Line`s: one line per table row, its cells separated by tabs, and a
line of its own for each paragraph outside the tables (the title 项目支出绩效自评表, the year).
A merged cell is read ONCE: its text in the merge's first grid position and "" in the
others, so the columns of every row stay aligned. The lines then take the text exports'
path (read.split_forms -> cells.to_rows with layout tab_rows -> form.parse_form), so the
label-driven parser stays one.

Line numbers of a document's forms count these lines (one per table row or paragraph), not
lines of the file; each line keeps a `locator` (page, table, row...) that issues quote.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from selfeval.extract.formats import sniff as sniffing
from selfeval.extract.formats.sniff import (
    DOC,
    DOCX,
    ENCRYPTED,
    HTML,
    OLE,
    PDF,
    RTF,
    TEXT,
    XLS,
    XLSX,
    ZIP,
    by_extension,
    sniff,
)

DOCUMENT_FORMATS = (DOCX, DOC, XLSX, XLS, PDF, HTML, RTF)
RAW_EXTENSIONS = tuple(sniffing.EXTENSIONS)  # the files the raw folder's listing takes


class ReadError(Exception):
    """A document that cannot be read: the message says what is wrong and what to do."""


@dataclass
class Line:
    cells: list[str]
    locator: str  # where the line is in the document: "page 2, table 1, row 7"


@dataclass
class Document:
    format: str
    lines: list[Line]
    encoding: str | None = None  # of an HTML page; None for the binary formats
    # the text engine when it is worth saying: a PDF read by pdfium because pdfminer could not
    # map its glyphs ("pdfium (pdfminer gave (cid:N) glyphs)"); None: the format's usual reader
    read_by: str | None = None

    @property
    def text(self) -> str:
        """The lines as tab-separated text (the parser's input)."""
        return "\n".join("\t".join(line.cells) for line in self.lines)


_ASCII_END = re.compile(r"[\x21-\x7e]$")
_ASCII_START = re.compile(r"^[\x21-\x7e]")


def join_wrapped(parts: list[str]) -> str:
    """A cell's lines (paragraphs, wrapped lines) as one cell: Chinese text joins without a
    space, as the text exports' cell_per_line reader joins a wrapped cell (cells.py); two
    Latin/digit ends join with one space."""
    text = ""
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if text and _ASCII_END.search(text) and _ASCII_START.match(part):
            text += " "
        text += part
    return text


def clean_cell(text: str | None) -> str:
    """One cell's text for a tab-separated line: no tab or line break inside (a tab would
    cut the cell in two), outer white space stripped as cells.py strips it."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n" in text:
        text = join_wrapped(text.split("\n"))
    return text.replace("\t", " ").strip()


def read_document(name: str, data: bytes, kind: str | None = None) -> Document:
    """Read a document of a known format (sniff() when kind is None). Raises ReadError
    with one clear message when the file cannot be read."""
    kind = kind or sniff(name, data)
    if not data:
        raise ReadError(f"{name}: empty file, no self-evaluation form found")
    if kind == DOCX:
        from selfeval.extract.formats import docx

        return docx.read(name, data)
    if kind in (XLSX, XLS):
        from selfeval.extract.formats import xlsx

        return xlsx.read(name, data, kind)
    if kind == PDF:
        from selfeval.extract.formats import pdf

        return pdf.read(name, data)
    if kind == HTML:
        from selfeval.extract.formats import html

        return html.read(name, data)
    if kind in (DOC, RTF):
        return read_doc(name, data, kind)
    if kind == ENCRYPTED:
        raise ReadError(
            f"{name}: password-protected (encrypted) Office document; open it with its password "
            "and save a copy without one (File > Info > Protect), then put that copy in data/raw/"
        )
    if kind == ZIP:
        raise ReadError(
            f"{name}: a zip archive that is neither a Word (.docx) nor an Excel (.xlsx) document; "
            "unpack it and put the forms themselves in data/raw/"
        )
    if kind == OLE:
        raise ReadError(
            f"{name}: an old Office file that is neither Word (.doc) nor Excel (.xls); "
            "save the form as .docx, .xlsx or PDF"
        )
    raise ReadError(f"{name}: not a document format ({kind})")


def read_doc(name: str, data: bytes, kind: str = DOC) -> Document:
    """A Word 97-2003 .doc (or an RTF file), converted to .docx by LibreOffice (headless)
    and read as .docx."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    what = "a Word 97-2003 .doc file" if kind == DOC else "a rich-text (RTF) file"
    if soffice is None:
        raise ReadError(
            f"{name}: {what}, which needs LibreOffice to be read; "
            "install LibreOffice (soffice on PATH) or open it in Word and save it as .docx"
        )
    with tempfile.TemporaryDirectory(prefix="selfeval-doc-") as tmp:
        source = Path(tmp) / f"form.{kind}"
        source.write_bytes(data)
        try:
            # a profile folder of its own: a LibreOffice already running for the user would take the job
            subprocess.run(
                [
                    soffice,
                    f"-env:UserInstallation=file://{tmp}/profile",
                    "--headless",
                    "--convert-to",
                    "docx",
                    "--outdir",
                    tmp,
                    str(source),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
            converted = (Path(tmp) / "form.docx").read_bytes()
        except (subprocess.SubprocessError, OSError) as exc:
            raise ReadError(
                f"{name}: LibreOffice could not convert {what} to .docx ({type(exc).__name__}); "
                "open it in Word and save it as .docx"
            ) from None
    from selfeval.extract.formats import docx

    document = docx.read(name, converted)
    document.format = kind
    return document


__all__ = [
    "DOCUMENT_FORMATS",
    "RAW_EXTENSIONS",
    "Document",
    "Line",
    "ReadError",
    "TEXT",
    "by_extension",
    "clean_cell",
    "join_wrapped",
    "read_document",
    "sniff",
]

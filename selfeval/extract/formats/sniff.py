"""A raw file's format, decided by its bytes; the extension is only a fallback.

Agencies publish the same form as .doc, .docx, .xls, .xlsx, PDF and saved web pages, and
downloads are often misnamed (a .doc that is really .docx, a .xls that is an HTML table,
"附件1.PDF"), so the first bytes decide:
- `%PDF` in the first KB: pdf;
- a zip holding word/document.xml: docx; xl/workbook.xml: xlsx; another zip: zip (not a form);
- an OLE2 compound file (D0 CF 11 E0): its directory names the streams (UTF-16LE names):
  WordDocument -> doc, Workbook/Book -> xls, EncryptedPackage -> encrypted (a password-
  protected .docx/.xlsx is stored that way); else by extension;
- `{\\rtf` at the start: rtf (Word opens it; downloads named .doc often are);
- `<html`, `<table` or `<!doctype html` in the first KB: html;
- anything else: text (the text exports), unless the extension names a document format,
  in which case that reader is tried and says what is wrong with the file.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from selfeval.vocab.value_sets import FILE_FORMATS

TEXT, DOCX, DOC, XLSX, XLS, PDF, HTML = "text", "docx", "doc", "xlsx", "xls", "pdf", "html"
ENCRYPTED = "encrypted"  # an OLE2 wrapper around an encrypted .docx/.xlsx (a password on opening)
ZIP = "zip"  # a zip that is neither a Word nor an Excel document
OLE = "ole"  # an OLE2 file of another kind (PowerPoint, msg...) or unreadable
RTF = "rtf"  # rich text, often what a download named .doc really is
FORMATS = FILE_FORMATS  # the files table's `format` values, declared in vocab/value_sets.py

# extension (lower case, with the dot) -> format, for the raw folder's listing and the fallback
EXTENSIONS = {
    ".txt": TEXT,
    ".docx": DOCX,
    ".doc": DOC,
    ".xlsx": XLSX,
    ".xls": XLS,
    ".pdf": PDF,
    ".html": HTML,
    ".htm": HTML,
}

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


# OLE2 stream names as they sit in the compound file's directory (UTF-16LE)
_OLE_STREAMS = (
    (ENCRYPTED, _utf16("EncryptedPackage")),
    (DOC, _utf16("WordDocument")),
    (XLS, _utf16("Workbook")),
    (XLS, _utf16("Book\x00")),
)


def by_extension(name: str) -> str | None:
    return EXTENSIONS.get(Path(name).suffix.lower())


def sniff(name: str, data: bytes) -> str:
    """The format of a file: one of the constants above."""
    extension = by_extension(name)
    head = data[:1024]
    if b"%PDF" in head:
        return PDF
    if data.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            # a damaged zip: the reader its extension names reports it as a damaged document
            return extension if extension in (DOCX, XLSX) else ZIP
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
        return ZIP
    if data.startswith(_OLE_MAGIC):
        for kind, stream in _OLE_STREAMS:
            if stream in data:
                return kind
        return extension if extension in (DOC, XLS) else OLE
    if data.lstrip()[:5] == b"{\\rtf":
        return RTF
    lowered = head.lower().lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"<html" in lowered or b"<table" in lowered or lowered.startswith(b"<!doctype html"):
        return HTML
    if extension in (DOCX, XLSX, DOC, XLS, PDF, HTML):
        return extension
    return TEXT

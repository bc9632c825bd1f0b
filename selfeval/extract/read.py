"""Bytes -> text -> one chunk of lines per form.

Only what every layout shares happens here: decoding, newline folding and
finding the title lines that start a form. Cells are cut in cells.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from selfeval.schema.issues import Issue
from selfeval.vocab.labels import VOCAB, norm_label

# Tried in this order: a BOM decides by itself; otherwise strict UTF-8, then
# GB18030 (a superset of GBK and GB2312, what Chinese Windows exports use).
_ENCODINGS = ("utf-8", "gb18030")


@dataclass
class Chunk:
    """The lines of one form, as printed, with the file's line numbers."""

    source_file: str
    ordinal: int          # 1-based position of the form in its file
    first_line: int       # 1-based line number of the title
    lines: list[tuple[int, str]] = field(default_factory=list)
    title: str = ""
    encoding: str = "utf-8"
    form_id: str = field(init=False, default="")  # "<file stem>#<ordinal>", the form's key in every table

    def __post_init__(self) -> None:
        # once per form: every fund and indicator row of the form carries it. A document
        # (.docx, .pdf...) keeps its extension: the same report published as a.txt and
        # a.docx would otherwise give two forms one key and fail the whole run.
        name = Path(self.source_file)
        self.form_id = f"{name.stem if name.suffix.lower() == '.txt' else name.name}#{self.ordinal:03d}"


def decode(data: bytes, source_file: str) -> tuple[str | None, str | None, list[Issue]]:
    """Return (text, encoding, issues). text is None when the file cannot be read."""
    def fail(message: str) -> tuple[None, None, list[Issue]]:
        return None, None, [Issue(source_file, None, None, "file", None, message, "error")]

    def warn(line: int | None, message: str) -> None:
        issues.append(Issue(source_file, None, line, "file", None, f"{source_file}: {message}", "warning"))

    issues: list[Issue] = []
    if not data.strip():
        return fail(f"{source_file}: empty file, no self-evaluation form found")
    candidates: tuple[str, ...]
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ("utf-8-sig",)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ("utf-16",)
    else:
        candidates = _ENCODINGS
        # Any NUL byte used to refuse the whole file as binary; but an interrupted
        # download leaves zero padding at the end, and a stray NUL is one bad byte
        # (found by tests/test_fuzz.py). Padding is dropped; a few NULs inside are
        # removed below; only a file with many (UTF-16 without BOM, PDF, image) is binary.
        padding = len(data) - len(data.rstrip(b"\x00"))
        if padding:
            data = data.rstrip(b"\x00")
            if not data.strip():
                return fail(f"{source_file}: empty file (only NUL bytes), no self-evaluation form found")
            warn(None, f"file ends in {padding} NUL byte(s), ignored (zero padding of an interrupted download?)")
        if data.count(b"\x00") > max(8, len(data) // 1000):
            return fail(f"{source_file}: binary file (NUL bytes), not a text export of a form")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        # A few bad bytes (a download cut inside a character, a stray byte from a hand
        # edit) used to lose the whole file as "cannot decode" (found by tests/test_fuzz.py).
        # When no encoding decodes cleanly, take the one with fewest bad bytes if they are
        # few, replace them with U+FFFD and say where; a file in another encoding has a
        # bad byte in almost every character and is still refused.
        damaged, damaged_encoding = _decode_damaged(data, candidates)
        if damaged is None or damaged_encoding is None:
            return fail(f"{source_file}: cannot decode as UTF-8 or GB18030")
        text, encoding = damaged, damaged_encoding
        lines = _lines_with(_fold_newlines(text), "\ufffd")
        warn(lines[0] if lines else None, f"byte sequence(s) not valid {encoding} replaced by U+FFFD "
                                          f"(line {_shown(lines)}); the file may be truncated or damaged")
    if _looks_binary(text):
        return fail(f"{source_file}: binary file (control characters), not a text export of a form")
    text = _fold_newlines(text)
    if "\x00" in text and encoding != "utf-16":
        lines = _lines_with(text, "\x00")
        warn(lines[0], f"{text.count(chr(0))} NUL byte(s) removed (line {_shown(lines)})")
        text = text.replace("\x00", "")
    return text, encoding, issues


def _lines_with(text: str, char: str) -> list[int]:
    return [n for n, line in enumerate(text.split("\n"), start=1) if char in line]


def _shown(lines: list[int]) -> str:
    return ", ".join(map(str, lines[:5])) + (", ..." if len(lines) > 5 else "")


def _fold_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_damaged(data: bytes, candidates: tuple[str, ...]) -> tuple[str | None, str | None]:
    """(text with U+FFFD for each bad byte sequence, encoding) for the candidate with
    the fewest bad sequences, if at most 8 or one per 1,000 bytes; else (None, None)."""
    limit = max(8, len(data) // 1000)
    best: tuple[str | None, str | None] = (None, None)
    fewest = limit + 1
    for encoding in candidates:
        text = data.decode(encoding, errors="replace")
        # each bad sequence became one U+FFFD (a U+FFFD printed in the file is in both)
        bad = len(text) - len(data.decode(encoding, errors="ignore"))
        if bad < fewest:
            best, fewest = (text, encoding), bad
    return best


# Unicode's control characters (category Cc: U+0000-U+001F, U+007F-U+009F) but the white
# space \t \n \v \f \r: one regular expression instead of a category lookup per character.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    return len(_CONTROL.findall(sample)) > max(8, len(sample) // 50)


_TITLE = re.compile(r"^(?P<district>.{0,8}?)" + re.escape(VOCAB["form_title"]) + VOCAB["title_year_pattern"] + "$")
_TITLE_HINT: str = VOCAB["title_hint"]


def title_match(line: str) -> re.Match | None:
    """A title line holds one short cell ending with 项目支出绩效自评表, the year
    sometimes on the same line ("朝阳区项目支出绩效自评表 (2022年度)")."""
    return _TITLE.match(norm_label(line))


def is_title(line: str) -> bool:
    return _TITLE_HINT in line and title_match(line) is not None  # cheap test first: most lines are not titles


def split_forms(text: str, source_file: str, encoding: str = "utf-8") -> tuple[list[Chunk], list[Issue]]:
    """Cut a file's text at its title lines. Text before the first title is reported."""
    issues: list[Issue] = []
    lines = text.split("\n")
    titles = [i for i, line in enumerate(lines) if _TITLE_HINT in line and is_title(line)]  # cheap test first
    ends = [*titles[1:], len(lines)]
    # (line number, text) pairs built by zip(), not one by one: every line of every form
    chunks = [Chunk(source_file, ordinal, start + 1, list(zip(range(start + 2, end + 1), lines[start + 1:end])),
                    lines[start].strip(), encoding)
              for ordinal, (start, end) in enumerate(zip(titles, ends), start=1)]
    preamble = [(i + 1, line) for i, line in enumerate(lines[:titles[0] if titles else len(lines)]) if line.strip()]
    if not chunks:
        issues.append(Issue(source_file, None, 1, "file", text[:80],
                            f"no self-evaluation form found in {source_file} "
                            f"(no line ending in {VOCAB['form_title']})", "error"))
    elif preamble:
        line_no, line = preamble[0]
        issues.append(Issue(source_file, None, line_no, "file", line[:80],
                            f"{len(preamble)} line(s) before the first form title were ignored", "warning"))
    return chunks, issues

"""Bytes -> text -> one chunk of lines per form.

Only what every layout shares happens here: decoding, newline folding and
finding the title lines that start a form. Cells are cut in cells.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from selfeval.schema.issues import Issue, file_issue
from selfeval.vocab.labels import TITLE_WORDS, VOCAB, norm_label

# Tried in this order: a BOM decides by itself; otherwise strict UTF-8, then
# GB18030 (a superset of GBK and GB2312, what Chinese Windows exports use).
_ENCODINGS = ("utf-8", "gb18030")


@dataclass
class Chunk:
    """The lines of one form, as printed, with the file's line numbers."""

    source_file: str
    ordinal: int  # 1-based position of the form in its file
    first_line: int  # 1-based line number of the title
    lines: list[tuple[int, str]] = field(default_factory=list)
    title: str = ""
    encoding: str = "utf-8"
    form_id: str = field(init=False, default="")  # "<file stem>#<ordinal>", the form's key in every table

    def __post_init__(self) -> None:
        # once per form: every fund and indicator row of the form carries it
        self.form_id = f"{form_key(self.source_file)}#{self.ordinal:03d}"


def form_key(source_file: str) -> str:
    """The part of a form's id that names its file. A file in a sub-folder of the raw folder keeps
    its folder ("sub/a.txt" -> "sub/a"); a document (.docx, .pdf...) keeps its extension: the same
    report published as a.txt and a.docx would otherwise give two forms one key."""
    name = PurePosixPath(source_file)
    return (name.with_suffix("") if name.suffix.lower() == ".txt" else name).as_posix()


def decode(data: bytes, source_file: str) -> tuple[str | None, str | None, list[Issue]]:
    """Return (text, encoding, issues). text is None when the file cannot be read."""

    def fail(message: str) -> tuple[None, None, list[Issue]]:
        return None, None, [file_issue(source_file, message, "error")]

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
    mixed = None
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            if encoding == "utf-8" and candidates == _ENCODINGS:
                # A UTF-8 file with a few lines pasted from a GBK/GB18030 source (a hand edit on
                # Chinese Windows) used to be refused whole; those lines are read as GB18030.
                mixed = _decode_mixed(data)
                if mixed is not None:
                    text, gb_lines, bad_lines = mixed
                    warn(
                        gb_lines[0],
                        f"line(s) {_shown(gb_lines)} not valid UTF-8 but GB18030 (a line pasted from "
                        "another file?); decoded as GB18030",
                    )
                    if bad_lines:
                        warn(
                            bad_lines[0],
                            f"byte sequence(s) not valid utf-8 replaced by U+FFFD "
                            f"(line {_shown(bad_lines)}); the file may be truncated or damaged",
                        )
                    break
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
        warn(
            lines[0] if lines else None,
            f"byte sequence(s) not valid {encoding} replaced by U+FFFD "
            f"(line {_shown(lines)}); the file may be truncated or damaged",
        )
    if _looks_binary(text):
        return fail(f"{source_file}: binary file (control characters), not a text export of a form")
    text = _fold_newlines(text)
    if "\x00" in text and encoding != "utf-16":
        lines = _lines_with(text, "\x00")
        warn(lines[0], f"{text.count(chr(0))} NUL byte(s) removed (line {_shown(lines)})")
        text = text.replace("\x00", "")
    return text, encoding, issues


def _decode_mixed(data: bytes) -> tuple[str, list[int], list[int]] | None:
    """(text, GB18030 line numbers, damaged line numbers) for a UTF-8 file some of whose lines are GB18030, else None.

    A line is taken as GB18030 when it decodes strictly as GB18030 and fails UTF-8 on many of its
    non-ASCII bytes (a GBK line breaks UTF-8 every character or two; a UTF-8 line cut or hit by a
    stray byte breaks it once, and keeps its U+FFFD and warning from the damaged-bytes path). The
    file counts as UTF-8 when more of its non-ASCII lines are valid UTF-8 than GB18030."""
    lines = data.split(b"\n")
    parts: list[str] = []
    gb_lines: list[int] = []
    bad_lines: list[int] = []
    utf8_lines = 0
    for number, line in enumerate(lines, start=1):
        try:
            parts.append(line.decode("utf-8"))
            utf8_lines += not line.isascii()
            continue
        except UnicodeDecodeError:
            pass
        high = sum(byte >= 0x80 for byte in line)
        replaced = line.decode("utf-8", errors="replace")
        bad = replaced.count("\ufffd") - line.decode("utf-8", errors="ignore").count("\ufffd")
        try:
            gb = line.decode("gb18030")
        except UnicodeDecodeError:
            gb = None
        if gb is not None and bad * 4 >= high:
            parts.append(gb)
            gb_lines.append(number)
        else:
            parts.append(replaced)
            bad_lines.append(number)
    if not gb_lines or utf8_lines <= len(gb_lines) or len(bad_lines) > max(8, len(lines) // 1000):
        return None
    return "\n".join(parts), gb_lines, bad_lines


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


_TITLE = re.compile(
    r"^(?P<district>[^"
    + re.escape(VOCAB["title_prefix_excludes"])
    + r"]{0,40}?)"
    + "(?:"
    + "|".join(map(re.escape, VOCAB["form_titles"]))
    + ")"
    + VOCAB["title_tail_pattern"]
    + "$"
)
_TITLE_HINT: str = VOCAB["title_hint"]


def title_match(line: str) -> re.Match | None:
    """A title line holds one cell ending with a title word (项目支出绩效自评表, 绩效目标自评表): the
    district or the unit's name may come first ("丰台区城市管理指挥中心项目支出绩效自评表"), the year
    and a continuation mark after ("朝阳区项目支出绩效自评表 (2022年度)", "项目支出绩效自评表（续）")."""
    if "\t" in line.strip():  # a row of several cells, one of which names the form: not a title
        return None
    return _TITLE.match(norm_label(line))


def is_title(line: str) -> bool:
    return _TITLE_HINT in line and title_match(line) is not None  # cheap test first: most lines are not titles


# A form also starts, without a title line, at a row of form labels that follows a complete form
# (one whose 总分 row was read): a title the patterns above do not know must not glue two forms.
_FORM_HEADER_FIELDS = ("project_name", "department", "implementing_unit")
_TOTAL_LABELS = frozenset(norm_label(label) for label in VOCAB["total_row"])
_TOTAL_HINTS = frozenset(label[0] for label in _TOTAL_LABELS)  # a cheap test per line
# (not the contact fields: a signature line under the form may print them)
_FORM_LABELS = frozenset(
    norm_label(label)
    for label in (
        *(
            label
            for field_name, labels in VOCAB["header_fields"].items()
            if field_name in _FORM_HEADER_FIELDS
            for label in labels
        ),
        *(label for labels in VOCAB["fund_lines"].values() for label in labels),
        *(label for labels in VOCAB["level1"].values() for label in labels),
        *(label for spec in VOCAB["level2"].values() for label in spec["labels"]),
        *VOCAB["funds_block"],
        *VOCAB["goal_block"],
        *VOCAB["indicator_block"],
        *VOCAB["indicator_table_start"],
        *VOCAB["total_row"],
    )
)


def _first_cell(line: str) -> str:
    text = line.strip()
    return norm_label(text.split("\t", 1)[0]) if text else ""


def _blank(line: str) -> bool:
    """A line that ends a table row in either layout: no text and no tab (an empty cell)."""
    return not line.strip() and "\t" not in line


def _form_starts(lines: list[str], complete: bool) -> list[int]:
    """Indexes into lines where a form starts without a title: the first line of the first
    non-blank run after a complete form's 总分 row, when a form label follows before any
    other title. complete: whether the lines continue a form already complete (the text
    before a file's first title does: no form is open there)."""
    starts: list[int] = []
    totals = [
        i for i, line in enumerate(lines) if not _TOTAL_HINTS.isdisjoint(line) and _first_cell(line) in _TOTAL_LABELS
    ]
    i = 0
    if not complete:
        if not totals:
            return starts
        i = totals[0]
    while i < len(lines):
        if not complete:  # at a 总分 row: it ends at the next blank line
            while i < len(lines) and not _blank(lines[i]):
                i += 1
        candidate = None
        while i < len(lines):
            line = lines[i]
            key = _first_cell(line)
            if key in _FORM_LABELS:
                # only a 项目名称-like header row, or anything once a header row was met, makes a form;
                # a form label alone (a stray 总分 row) also counts: never glued to the form above
                start = candidate if candidate is not None else i
                starts.append(start)
                complete = False
                later = [t for t in totals if t > i]
                if not later:
                    return starts
                i = later[0]
                break
            if candidate is None and line.strip():
                candidate = i
            i += 1
        else:
            return starts
    return starts


def split_forms(text: str, source_file: str, encoding: str = "utf-8") -> tuple[list[Chunk], list[Issue]]:
    """Cut a file's text at its title lines. Text before the first title is reported."""
    issues: list[Issue] = []
    return list(iter_forms(text, source_file, encoding, issues)), issues


def _title_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of every title line, found by searching the text for the title
    hint (C speed) instead of testing each of a large file's millions of lines."""
    found: list[tuple[int, int]] = []
    at = text.find(_TITLE_HINT)
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        end = len(text) if end < 0 else end
        if is_title(text[start:end]):
            found.append((start, end))
        at = text.find(_TITLE_HINT, end)
    return found


def iter_forms(text: str, source_file: str, encoding: str, issues: list[Issue]) -> Iterator[Chunk]:
    """The file's forms one at a time (a file of 100,000 forms is never split into lines as a
    whole); problems are appended to issues as they are found. A form starts at a title line,
    or (a warning) at the first row of form labels after a complete form."""
    ordinal = 0
    line_no, counted_to = 1, 0  # the line number at offset counted_to
    titles = _title_lines(text)
    # (title line's offsets or None for the text before the first title, start, end) of each stretch of text
    segments: list[tuple[tuple[int, int] | None, int, int]] = [(None, 0, titles[0][0] if titles else len(text))]
    segments += [(t, t[1] + 1, nxt[0] if nxt else len(text)) for t, nxt in zip(titles, [*titles[1:], None])]
    preamble_reported = False
    for title, begin, end in segments:
        if begin > len(text):
            begin = len(text)
        if title is not None:
            line_no += text.count("\n", counted_to, title[0])
            counted_to = title[0]
            title_line = line_no
            line_no += text.count("\n", counted_to, begin)
            counted_to = begin
        else:
            title_line = 0  # no title line: not used
        first = line_no  # line number of lines[0]
        lines = text[begin:end].split("\n") if begin < end else []
        if end < len(text) and lines and lines[-1] == "":
            lines.pop()  # the newline before the next title
        starts = _form_starts(lines, complete=title is None)
        cuts = [*starts, len(lines)]
        if title is not None:
            ordinal += 1
            yield Chunk(
                source_file,
                ordinal,
                title_line,
                list(zip(range(first, first + cuts[0]), lines[: cuts[0]])),
                text[title[0] : title[1]].strip(),
                encoding,
            )
        elif not starts and not preamble_reported:
            preamble = [(first + i, line) for i, line in enumerate(lines) if line.strip()]
            if preamble and titles:
                line, shown = preamble[0]
                issues.append(
                    Issue(
                        source_file,
                        None,
                        line,
                        "file",
                        shown[:80],
                        f"{len(preamble)} line(s) before the first form title were ignored",
                        "warning",
                    )
                )
            preamble_reported = True
        for start, stop in zip(starts, cuts[1:]):
            ordinal += 1
            head = lines[start]
            named = _first_cell(head) in _FORM_LABELS or "\t" in head.strip()
            chunk_title = "" if named else head.strip()
            body = start if named else start + 1
            chunk = Chunk(
                source_file,
                ordinal,
                first + start,
                list(zip(range(first + body, first + stop), lines[body:stop])),
                chunk_title,
                encoding,
            )
            label = next(
                (line.strip().split("\t", 1)[0] for line in lines[start:stop] if _first_cell(line) in _FORM_LABELS), ""
            )
            where = "after a complete form" if title is not None or start > 0 and ordinal > 1 else "before any title"
            issues.append(
                Issue(
                    source_file,
                    chunk.form_id,
                    first + start,
                    "form",
                    head.strip()[:80],
                    f"a form starts at line {first + start} without a recognised title line "
                    f"({label} row {where}); read as a form of its own",
                    "warning",
                )
            )
            yield chunk
        line_no += text.count("\n", counted_to, end)
        counted_to = end
    if ordinal == 0:
        issues.append(
            Issue(
                source_file,
                None,
                1,
                "file",
                text[:80],
                f"no self-evaluation form found in {source_file} (no line ending in {VOCAB['form_title']})",
                "error",
            )
        )
        inside = _title_inside(text)
        if inside is not None:
            # a title word in the middle of a line: the analyst sees why it was not taken as a form
            # (a document site's text with every cell run together, tests/examples/real/05 and 07)
            line, word = inside
            issues.append(
                Issue(
                    source_file,
                    None,
                    line,
                    "file",
                    text.split("\n")[line - 1][:80],
                    f"{word} printed inside line {line}, not as a title line: the form's cells run together "
                    "(a document site's text?) or the table was saved in another format; not read",
                    "warning",
                )
            )


def _title_inside(text: str) -> tuple[int, str] | None:
    """(line number, title word) of the first line holding a title word that is not a title line."""
    words = [word for word in TITLE_WORDS if word in text]
    if not words:
        return None
    for number, line in enumerate(text.split("\n"), start=1):
        found = next((word for word in words if word in line), None)
        if found is not None and not is_title(line):
            return number, found
    return None

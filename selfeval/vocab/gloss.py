"""A short English gloss of a unit or project name, from the terms of glossary.yaml.

gloss("社区党建经费") -> "Community Party-building funds". The name is cut into glossary terms
(the fewest pieces, the longest first); years and counted numbers (2024年, 2022年度, 32名,
3号楼), other digits, percentages and ASCII pass through (translated by the glossary's
`counters`), punctuation becomes its English form. When a Chinese character is covered by no
term, there is no gloss (None): a reader gets the printed name alone, never half of it in English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from selfeval.vocab import load

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_KEPT = re.compile(r"\d+(?:\.\d+)?%?|[A-Za-z]+|.")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class _Piece:
    text: str
    space_before: bool = True
    space_after: bool = True


@cache
def _vocabulary() -> tuple[dict[str, str], int, re.Pattern, dict[str, str], dict[str, _Piece]]:
    data = load("glossary")
    terms = {str(k): str(v) for k, v in data["terms"].items()}
    counters = {str(k): str(v) for k, v in data["counters"].items()}
    # a number and the longest counter word after it ("2022年度" before "2022年")
    words = "|".join(re.escape(w) for w in sorted(counters, key=len, reverse=True))
    counted = re.compile(rf"(\d+)({words})")
    punctuation = {
        str(k): _Piece(str(v["text"]), bool(v.get("space_before", False)), bool(v.get("space_after", False)))
        for k, v in data["punctuation"].items()
    }
    return terms, max(map(len, terms)), counted, counters, punctuation


def _candidates(name: str, i: int) -> list[tuple[int, str | None]]:
    """The pieces that may start at *i*: (end, English), longest first."""
    terms, longest, counted, counters, punctuation = _vocabulary()
    match = counted.match(name, i)
    if match:
        return [(match.end(), counters[match.group(2)].format(n=match.group(1)))]
    found: list[tuple[int, str | None]] = [
        (i + size, terms[name[i : i + size]])
        for size in range(min(longest, len(name) - i), 0, -1)
        if name[i : i + size] in terms
    ]
    ch = name[i]
    if found or _CJK.match(ch):
        return found  # a Chinese character is covered by a term or not at all
    if ch in punctuation:
        return [(i + 1, ch)]
    if ch.isspace():
        return [(i + 1, None)]
    kept = _KEPT.match(name, i)  # a number, a percentage, an ASCII word: kept as printed
    assert kept is not None  # its last branch matches any character
    return [(kept.end(), kept.group(0))]


def segments(name: str) -> list[tuple[str, str | None]] | None:
    """(printed piece, its English) for each piece of *name*, or None when a Chinese character
    is in no term (English None: the piece is a space).

    Of the ways to cut the name into terms, the one with the fewest pieces, and among those the
    one whose earlier pieces are longest: plain longest match cuts "接线员工资" into 接线员工|资
    and finds no term for 资, where 接线员|工资 covers the name."""
    n = len(name)
    best: list[tuple[int, int] | None] = [None] * (n + 1)  # (pieces to the end, end of the first)
    best[n] = (0, n)
    english: dict[tuple[int, int], str | None] = {}
    for i in range(n - 1, -1, -1):
        for stop, text in _candidates(name, i):  # longest first: it wins a tie
            rest = best[stop]
            if rest is not None and (best[i] is None or rest[0] + 1 < best[i][0]):  # type: ignore[index]
                best[i] = (rest[0] + 1, stop)
                english[(i, stop)] = text
    if best[0] is None:
        return None
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < n:
        stop = best[i][1]  # type: ignore[index]
        out.append((name[i:stop], english[(i, stop)]))
        i = stop
    return out


def gloss(name) -> str | None:
    """The English gloss of a printed unit or project name, or None when the glossary does not
    cover every Chinese character of it (or the name is empty or has no Chinese at all: it
    needs no gloss)."""
    if not isinstance(name, str) or not _CJK.search(name):
        return None
    pieces = segments(name.strip())
    if pieces is None:
        return None
    _, _, _, _, punctuation = _vocabulary()
    text = ""
    glued = True  # no space before the first piece, nor after an opening bracket or quote
    for printed, english in pieces:
        if english is None:
            continue
        piece = punctuation.get(printed) if printed == english else None
        if piece is None:
            piece = _Piece(english)
        if text and not glued and piece.space_before:
            text += " "
        text += piece.text
        glued = not piece.space_after
    text = _SPACE.sub(" ", text).strip()
    return text[:1].upper() + text[1:] if text else None

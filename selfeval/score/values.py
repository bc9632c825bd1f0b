"""Read indicator target (年度指标值) and actual (实际完成值) cells into typed values.

The cells are free text typed by hand and then passed through a PDF export, so the
same value comes in many spellings ("≥ 52 次", "≥52次", "99. 91", "≤156.6 456 万").
parse_value() tells what a cell holds without inventing anything: a cell with several
quantities stays "compound" with no single number. comparable() puts a target and an
actual on the same unit, or says why it cannot.

All words (units, comparators, grades, boilerplate) live in vocab/values.yaml.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from selfeval.vocab import load
from selfeval.vocab.value_sets import EVIDENCE_CLASSES, MAX_VALUE, UNITS_NOT_COMPARABLE  # noqa: F401

NOTE_BOILERPLATE = "known boilerplate"
NOTE_TOO_LARGE = "number too large to be a printed value"
NOTE_COMPOUND = "several numbers; not reduced to one"
NOTE_DATE = "date or deadline"
NOTE_EMBEDDED = "number embedded in text"
NOTE_UNKNOWN_WORD = "number followed by an unrecognised word"
NOTE_UNIT_UNCLEAR = "unit not understood"


@dataclass(frozen=True)
class ParsedValue:
    raw: str | None
    comparator: str | None = None
    number: float | None = None
    unit: str | None = None
    kind: str = "empty"
    numbers: tuple[float, ...] = ()
    note: str | None = None


# --- normalisation --------------------------------------------------------------

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space fold to ASCII. Not NFKC:
# NFKC turns "㎡" into "m2", which would read as a second number.
_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_SPACE = re.compile(r"\s+")
# "1,500,000" -> "1500000"; only commas followed by exactly three digits.
_THOUSANDS = re.compile(r"(?<=[0-9]),(?=[0-9]{3}(?![0-9]))")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


@lru_cache(maxsize=1 << 16)
def normalise(text: str) -> str:
    """Fold widths, drop every space (PDF exports split numbers and words at random:
    "99. 91", "可达到预期指 标"), drop thousands separators and a closing full stop."""
    text = _SPACE.sub("", text.translate(_WIDTH))
    return _THOUSANDS.sub("", text).rstrip("。.")


# --- vocabulary, loaded once -----------------------------------------------------

VOCAB: dict = load("values")


def _by_length(pairs: dict[str, str]) -> list[tuple[str, str]]:
    """Longest spelling first, so that 不低于 is tried before 低于 and 个月 before 个."""
    return sorted(pairs.items(), key=lambda pair: -len(pair[0]))


def _spellings(mapping: dict[str, list[str]]) -> list[tuple[str, str]]:
    return _by_length({normalise(s): canon for canon, spells in mapping.items() for s in spells})


EMPTY = {normalise(s) for s in VOCAB["empty_values"]}
BEFORE = _spellings(VOCAB["comparators"])
AFTER = _spellings(VOCAB["comparator_suffixes"])
UNIT_INFO = {canon: (spec or {}) for canon, spec in VOCAB["units"].items()}
UNIT_SPELLINGS = _spellings({c: [c, *spec.get("aliases", [])] for c, spec in UNIT_INFO.items()})
DENOMINATORS = sorted((normalise(d) for d in VOCAB["rate_denominators"]), key=len, reverse=True)
SHORTHAND = {normalise(s) for s in VOCAB["shorthand_units"]}
CONTEXTUAL = VOCAB["contextual_units"]
AMBIGUOUS = VOCAB["ambiguous_units"]
DATE = re.compile("|".join(f"(?:{p})" for p in VOCAB["date_patterns"]))
RATINGS = {normalise(s) for s in VOCAB["ratings"]}
SCALES = {normalise(s) for s in VOCAB["rating_scales"]}
SCALE_SEPARATORS = re.compile("|".join(re.escape(s) for s in VOCAB["scale_separators"]))
PHRASES = {normalise(s) for s in VOCAB["qualitative_phrases"]}
_IGNORED = re.compile("[" + re.escape("".join(VOCAB["evidence"]["ignored_characters"])) + "]")


@lru_cache(maxsize=1 << 16)
def evidence_text(text: str) -> str:
    """A cell as the evidence classes compare it: normalise() and the vocabulary's
    ignored characters (punctuation) removed."""
    return _IGNORED.sub("", normalise(text))


BARE_CLAIMS = {evidence_text(s) for s in VOCAB["evidence"]["bare_claims"]}


# --- parsing ---------------------------------------------------------------------


def _comparator_before(prefix: str) -> tuple[str | None, str]:
    """The comparator that ends right before the number, and the words left before it."""
    for spelling, canon in BEFORE:
        if prefix.endswith(spelling):
            return canon, prefix[: -len(spelling)]
    return None, prefix


def _unit_after(rest: str) -> tuple[str | None, str, str]:
    """(canonical unit, printed spelling, text after it). A rate keeps its printed
    denominators: "万元/人年", "元/人/年"."""
    for spelling, canon in UNIT_SPELLINGS:
        if rest.startswith(spelling):
            unit, rest = canon, rest[len(spelling) :]
            break
    else:
        return None, "", rest
    printed = spelling
    while rest.startswith("/"):
        denominator = next((d for d in DENOMINATORS if rest[1:].startswith(d)), None)
        if denominator is None:
            break
        unit, rest = f"{unit}/{denominator}", rest[1 + len(denominator) :]
    return unit, printed, rest


def _single(raw: str, text: str, match: re.Match) -> ParsedValue:
    """One number in the cell: read the comparator before it and the unit after it."""
    number, prefix = float(match.group()), text[: match.start()]
    if prefix.endswith("-") and not _comparator_before(prefix[:-1])[1]:
        number, prefix = -number, prefix[:-1]  # "-5%", "≥-5": a sign, not a dash
    comparator, before = _comparator_before(prefix)
    unit, printed, after = _unit_after(text[match.end() :])
    notes = []
    if printed in SHORTHAND and _unit_after(after)[0] is not None:
        # "5万平方米": 万 is a multiplier of another unit here, not 万元.
        return ParsedValue(raw, comparator, None, None, "text", (number,), NOTE_UNIT_UNCLEAR)
    if comparator is None:
        for spelling, canon in AFTER:
            if after.startswith(spelling):
                comparator, after = canon, after[len(spelling) :]
                break
    if unit is None and after[:1].isalpha():
        return ParsedValue(raw, comparator, number, None, "text", (number,), NOTE_UNKNOWN_WORD)
    if before or after:
        notes.append(NOTE_EMBEDDED)
    if printed in AMBIGUOUS:
        notes.append(AMBIGUOUS[printed])
    return ParsedValue(raw, comparator, number, unit, "quantitative", (number,), "; ".join(notes) or None)


def parse_value(raw: str | None) -> ParsedValue:
    """Classify one target or actual cell; never raises."""
    if raw is None or (isinstance(raw, float) and raw != raw):  # None or a pandas NaN
        return ParsedValue(raw)
    if isinstance(raw, str):
        return _parse_text(raw)
    return _parse_uncached(raw)


@lru_cache(maxsize=1 << 16)
def _parse_text(raw: str) -> ParsedValue:
    # Cached: a corpus repeats the same few hundred cells ("100%" is a third of all targets).
    return _parse_uncached(raw)


def _parse_uncached(raw) -> ParsedValue:
    text = normalise(str(raw))
    if not text or text in EMPTY:
        return ParsedValue(raw)
    if SCALE_SEPARATORS.sub("", text) in SCALES:
        return ParsedValue(raw, kind="rating_scale")
    if text in RATINGS:
        return ParsedValue(raw, kind="rating")
    if text in PHRASES:
        return ParsedValue(raw, kind="qualitative", note=NOTE_BOILERPLATE)
    matches = list(_NUMBER.finditer(text))
    numbers = tuple(float(m.group()) for m in matches)
    if not matches:
        return ParsedValue(raw, kind="qualitative")
    if not all(math.isfinite(n) and abs(n) <= MAX_VALUE for n in numbers):
        # a digit string no form prints (a damaged or hostile cell): not a quantity
        return ParsedValue(raw, kind="text", note=NOTE_TOO_LARGE)
    if DATE.search(text):
        return ParsedValue(raw, kind="text", numbers=numbers, note=NOTE_DATE)
    if len(matches) > 1:
        return ParsedValue(raw, kind="compound", numbers=numbers, note=NOTE_COMPOUND)
    return _single(raw, text, matches[0])


# --- comparing a target with an actual -------------------------------------------


def _in_context(unit: str, other: str) -> str:
    """Read a contextual unit as its other meaning when the other side uses that meaning:
    an actual "20分" next to a target "≤20分钟" is minutes; elsewhere 分 stays as printed."""
    return CONTEXTUAL.get(unit, unit) if CONTEXTUAL.get(unit) == other else unit


def comparable(target: ParsedValue, actual: ParsedValue) -> tuple[float | None, float | None, str | None]:
    """(target number, actual number in the target's unit, None), or
    (None, None, reason) when the two cannot be compared as numbers."""
    for side, value in (("target", target), ("actual", actual)):
        if value.kind != "quantitative" or value.number is None:
            return None, None, f"{side} is {value.kind}"
    t_unit, a_unit = target.unit, actual.unit
    # A bare number takes the other side's unit: forms often drop the unit on one side.
    if t_unit is None or a_unit is None or t_unit == a_unit:
        return target.number, actual.number, None
    t_unit, a_unit = _in_context(t_unit, a_unit), _in_context(a_unit, t_unit)
    t_base, _, t_rate = t_unit.partition("/")
    a_base, _, a_rate = a_unit.partition("/")
    if t_rate != a_rate:
        return None, None, UNITS_NOT_COMPARABLE
    if t_base == a_base:
        return target.number, actual.number, None
    t_info, a_info = UNIT_INFO.get(t_base, {}), UNIT_INFO.get(a_base, {})
    dimension = t_info.get("dimension")
    if dimension is None or dimension != a_info.get("dimension"):
        return None, None, UNITS_NOT_COMPARABLE
    return target.number, actual.number * a_info["factor"] / t_info["factor"], None


# --- evidence on the form ------------------------------------------------------------


def evidence(target: ParsedValue, actual: ParsedValue) -> str:
    """The evidence class of an actual (see EVIDENCE_CLASSES and selfeval/vocab/values.yaml):
    missing: no actual (blank, "—", "无"); restated: the target's text once normalised, or a
    single number equal to the target's, in its unit or none, with no comparator or the
    target's ("≥90%" -> "90%", "≥1个" -> "1", "≥130人" -> "不低于130人"); bare_claim: one of the vocabulary's claims with no value
    ("已完成", "可达到预期指标", "优"); measured: anything else (a number that differs from
    the target's, or a description of a result)."""
    if actual.kind == "empty":
        return "missing"
    actual_text = evidence_text(str(actual.raw))
    if target.kind != "empty" and actual_text == evidence_text(str(target.raw)):
        return "restated"
    if actual_text in BARE_CLAIMS:
        return "bare_claim"
    if (
        target.kind == "quantitative"
        and actual.kind == "quantitative"
        and actual.comparator in (None, target.comparator)
    ):
        t, a, reason = comparable(target, actual)
        if reason is None and t is not None and a is not None and abs(t - a) <= 1e-9 * max(1.0, abs(t)):
            return "restated"
    return "measured"

"""Indicator phrasing: boilerplate targets, unverifiable indicators, copied text.

Similarity is character-level (difflib's ratio on the text with white space and
punctuation removed), which suits Chinese, where words are not separated.

Indicator text repeats a lot (100,000 forms print a few hundred distinct names), so
every per-text step (squeezing, segmenting, comparing) runs once per distinct text
and its result is spread back to the rows or weighted by the count: the same answers
as going row by row, without a Python call per row.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from itertools import combinations

import numpy as np
import pandas as pd

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
# Deviation notes that explain nothing.
EMPTY_NOTES = {"", "无", "/", "—", "-", "无偏差", "没有", "不适用"}
NEAR_DUPLICATE = 0.8
MAX_NAMES_FOR_PAIRS = 1500  # near-duplicate search compares every pair: cap the distinct names


def squeeze(text) -> str:
    return _PUNCT.sub("", str(text)) if isinstance(text, str) else ""


def each_distinct(values: pd.Series, func) -> pd.Series:
    """values.map(func) (object dtype, same index), calling func once per distinct value;
    a missing value is passed to func as it is."""
    if values.empty:
        return values.map(func)  # the dtype pandas gives an empty result
    codes, uniques = pd.factorize(values)  # a missing value gets code -1
    results = np.empty(len(uniques) + 1, dtype=object)
    results[:-1] = [func(u) for u in uniques]
    if (codes < 0).any():
        results[-1] = func(values[codes < 0].iloc[0])
    return pd.Series(results[codes], index=values.index, dtype=object)


def _without_space(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _squeeze_cell(value) -> str:
    """squeeze() of a cell as repeated() reads it: missing is "", anything else as text."""
    return (
        ""
        if value is None or value is pd.NA or (isinstance(value, float) and value != value)
        else squeeze(value if isinstance(value, str) else str(value))
    )


def similarity(a, b) -> float:
    a, b = squeeze(a), squeeze(b)
    if not a or not b:
        return float("nan")
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def kind_shares(indicators: pd.DataFrame, by: str) -> pd.DataFrame:
    """Share of each target kind (quantitative, qualitative, ...) within each group."""
    table = pd.crosstab(indicators[by], indicators["target_kind"].fillna("empty"), normalize="index")
    return table.sort_index()


def common_values(indicators: pd.DataFrame, column: str, n: int = 15) -> pd.DataFrame:
    counts = each_distinct(indicators[column].dropna(), _without_space).value_counts()
    out = counts.head(n).rename_axis(column).reset_index(name="count")
    out["share"] = out["count"] / max(1, indicators[column].notna().sum())
    return out


def _combined(codes: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """One code per distinct combination of several code arrays (hashing, no sort); codes
    are numbered in order of first appearance and stay below the number of rows."""
    combined = np.zeros(len(codes[0]), dtype=np.int64)
    for c, size in zip(codes, sizes):
        combined = pd.factorize(combined * size + c)[0]
    return combined


def _row_keys(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Per row, the squeezed texts of `columns` joined by "|" (squeeze removes any "|" in them)."""
    parts, codes = [], []
    for column in columns:
        c, uniques = pd.factorize(frame[column])
        parts.append(np.array([_squeeze_cell(u) for u in uniques] + [""], dtype=object))
        codes.append(np.where(c < 0, len(uniques), c))  # missing -> the "" at the end
    if len(columns) == 1:
        return pd.Series(parts[0][codes[0]], index=frame.index, dtype=object)
    # one key per distinct combination of texts, then spread back to the rows
    combo = _combined(codes, [len(part) for part in parts])
    first = pd.Series(combo).drop_duplicates().index.to_numpy()  # row of each combination's first use
    keys = np.array(["|".join(part[c[row]] for part, c in zip(parts, codes)) for row in first], dtype=object)
    return pd.Series(keys[combo], index=frame.index, dtype=object)


def _distinct_per_group(groups: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """How many distinct codes (-1: missing, not counted) each group has, as groupby(...).nunique()."""
    keep = codes >= 0
    size = int(codes.max()) + 1 if keep.any() else 1
    pairs = pd.unique(groups[keep].astype(np.int64) * size + codes[keep])
    return np.bincount(pairs // size, minlength=n_groups)


def _first_rows(groups: np.ndarray, n_groups: int) -> np.ndarray:
    """For each group code 0..n_groups-1, the position of its first row."""
    firsts = pd.Series(groups).drop_duplicates()  # index: row position, value: group
    rows = np.empty(n_groups, dtype=np.int64)
    rows[firsts.to_numpy()] = firsts.index.to_numpy()
    return rows


def repeated(indicators: pd.DataFrame, projects: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Texts (or whole rows when several columns) printed identically in several forms.
    Counts forms and units; sorted by how many units share them. Texts are compared
    squeezed (no white space or punctuation); `text` is the first row's text as printed."""
    key = _row_keys(indicators, columns)
    keep = (key != "|" * (len(columns) - 1)).to_numpy()  # not every text empty
    rows = np.flatnonzero(keep)
    group, keys = pd.factorize(key.iloc[rows], sort=True)  # sorted keys, as groupby orders them
    first = indicators[columns].iloc[rows[_first_rows(group, len(keys))]]  # first row of each key
    # each row's unit through its form (a left join on form_id, which is unique in projects)
    form = pd.Index(projects["form_id"]).get_indexer(indicators["form_id"])
    unit = np.append(pd.factorize(projects["unit"])[0], -1)[form]  # -1: no unit, or form not in projects
    out = pd.DataFrame(
        {
            "text": first[columns[0]].to_numpy()
            if len(columns) == 1
            else [" | ".join(str(v) for v in row) for row in first.astype(object).itertuples(index=False)],
            "forms": _distinct_per_group(group, pd.factorize(indicators["form_id"])[0][rows], len(keys)),
            "units": _distinct_per_group(group, unit[rows], len(keys)),
        },
        index=pd.Index(keys, name="_key"),
    )
    if len(columns) == 1:
        out["text"] = out["text"].astype(indicators[columns[0]].dtype)
    out = out[out["forms"] > 1]
    return out.sort_values(["units", "forms"], ascending=False).reset_index(drop=True)


def near_duplicates(
    names: pd.Series, threshold: float = NEAR_DUPLICATE, max_names: int = MAX_NAMES_FOR_PAIRS
) -> pd.DataFrame:
    """Pairs of distinct indicator names that are nearly the same text. Every pair of
    distinct (squeezed) names is compared, up to `max_names` names; beyond that only the
    `max_names` most frequent are. `attrs` says how many were searched of how many:
    see search_scope()."""
    counts = each_distinct(names.dropna(), squeeze).value_counts()
    distinct = [n for n in counts.index[:max_names] if n]
    rows = []
    for a, b in combinations(distinct, 2):
        if 2 * min(len(a), len(b)) < threshold * (len(a) + len(b)) - 1e-9:
            continue  # cannot reach the threshold: ratio = 2*matches/(len a + len b) <= 2*min/(len a + len b)
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        if matcher.quick_ratio() >= threshold and (ratio := matcher.ratio()) >= threshold:
            rows.append(
                {"name_a": a, "name_b": b, "similarity": ratio, "forms_a": int(counts[a]), "forms_b": int(counts[b])}
            )
    out = pd.DataFrame(rows, columns=["name_a", "name_b", "similarity", "forms_a", "forms_b"]).sort_values(
        "similarity", ascending=False, ignore_index=True
    )
    out.attrs.update(
        names_searched=len(distinct), names_distinct=sum(1 for n in counts.index if n), max_names=max_names
    )
    return out


def cap_note(pairs: pd.DataFrame) -> str:
    """ "" when near_duplicates() compared every name, else what it was limited to (to follow a count)."""
    searched, distinct = pairs.attrs.get("names_searched", 0), pairs.attrs.get("names_distinct", 0)
    return "" if searched >= distinct else f" among the {searched:,} most frequent of {distinct:,} distinct names"


def search_scope(pairs: pd.DataFrame) -> str:
    """What near_duplicates() compared, for the report: every pair, or (past its cap) only
    the pairs among the most frequent names."""
    searched, distinct = pairs.attrs.get("names_searched", 0), pairs.attrs.get("names_distinct", 0)
    if searched >= distinct:
        return f"Near-duplicates: every pair of the {distinct:,} distinct indicator names compared (exact search)."
    return (
        f"Near-duplicates: only the {searched:,} most frequent of {distinct:,} distinct indicator names "
        f"were compared pairwise (the search compares every pair, so it is capped at "
        f"{pairs.attrs.get('max_names', searched):,} names); pairs among the rarer names are not counted."
    )


def goal_achievement_similarity(projects: pd.DataFrame) -> pd.DataFrame:
    out = projects[["form_id", "unit", "project_name", "goal_text", "achievement_text"]].copy()
    # once per distinct (goal, achievement) pair: forms copied from a template repeat both
    goal, goals = pd.factorize(out["goal_text"])
    achievement, achievements = pd.factorize(out["achievement_text"])
    combos, inverse = np.unique(np.stack([goal, achievement], axis=1), axis=0, return_inverse=True)
    text = lambda uniques, i: uniques[i] if i >= 0 else None  # noqa: E731 (missing text)
    scores = np.array([similarity(text(goals, g), text(achievements, a)) for g, a in combos], dtype=float)
    out["similarity"] = scores[inverse.reshape(-1)] if len(out) else np.array([], dtype=float)
    return out.sort_values("similarity", ascending=False, ignore_index=True)


def empty_notes(indicators: pd.DataFrame) -> pd.DataFrame:
    """Indicators whose deviation note (偏差原因) says nothing, split by whether points were lost."""
    note = each_distinct(indicators["deviation_note"].fillna(""), _without_space)
    lost = (indicators["score"] < indicators["weight"]).fillna(False)
    return (
        pd.DataFrame({"says_nothing": note.isin(EMPTY_NOTES), "points_lost": lost})
        .value_counts()
        .rename("indicators")
        .reset_index()
    )


def word_frequencies(texts: pd.Series, n: int = 30, stopwords: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Most frequent words (jieba segmentation) of at least two characters."""
    import jieba  # imported here: it loads a dictionary on first use

    jieba.setLogLevel(60)
    # each distinct squeezed text segmented once and counted as often as it occurs; taken in
    # order of first appearance, so words with equal counts keep the row-by-row order
    occurrences = each_distinct(texts.dropna(), squeeze).value_counts(sort=False)
    counter: Counter[str] = Counter()
    for text, times in occurrences.items():
        for w in jieba.lcut(text):
            if len(w) >= 2 and w not in stopwords:
                counter[w] += int(times)
    return pd.DataFrame(counter.most_common(n), columns=["word", "count"])

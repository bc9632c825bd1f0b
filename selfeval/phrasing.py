"""Indicator phrasing: boilerplate targets, unverifiable indicators, copied text.

Similarity is character-level (difflib's ratio on the text with white space and
punctuation removed), which suits Chinese, where words are not separated.
"""
from __future__ import annotations

import difflib
import re
from collections import Counter
from itertools import combinations

import pandas as pd

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
# Deviation notes that explain nothing.
EMPTY_NOTES = {"", "无", "/", "—", "-", "无偏差", "没有", "不适用"}
NEAR_DUPLICATE = 0.8
MAX_NAMES_FOR_PAIRS = 1500  # near-duplicate search compares every pair: cap the distinct names


def squeeze(text) -> str:
    return _PUNCT.sub("", str(text)) if isinstance(text, str) else ""


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
    counts = indicators[column].dropna().map(lambda s: re.sub(r"\s+", "", s)).value_counts()
    out = counts.head(n).rename_axis(column).reset_index(name="count")
    out["share"] = out["count"] / max(1, indicators[column].notna().sum())
    return out


def repeated(indicators: pd.DataFrame, projects: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Texts (or whole rows when several columns) printed identically in several forms.
    Counts forms and units; sorted by how many units share them."""
    frame = indicators.merge(projects[["form_id", "unit"]], on="form_id", how="left")
    key = frame[columns].fillna("").astype(str).apply(lambda col: col.map(squeeze)).agg("|".join, axis=1)
    frame = frame.assign(_key=key)
    frame = frame[frame["_key"].str.replace("|", "", regex=False) != ""]
    g = frame.groupby("_key")
    out = pd.DataFrame({
        "text": g[columns[0]].first() if len(columns) == 1 else g.apply(
            lambda d: " | ".join(str(d.iloc[0][c]) for c in columns), include_groups=False),
        "forms": g["form_id"].nunique(), "units": g["unit"].nunique(),
    })
    out = out[out["forms"] > 1]
    return out.sort_values(["units", "forms"], ascending=False).reset_index(drop=True)


def near_duplicates(names: pd.Series, threshold: float = NEAR_DUPLICATE) -> pd.DataFrame:
    """Pairs of distinct indicator names that are nearly the same text."""
    counts = names.dropna().map(squeeze).value_counts()
    distinct = [n for n in counts.index[:MAX_NAMES_FOR_PAIRS] if n]
    rows = []
    for a, b in combinations(distinct, 2):
        if abs(len(a) - len(b)) > max(len(a), len(b)) * (1 - threshold):
            continue  # cannot reach the threshold: ratio <= 2*min/(len a + len b)
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        if matcher.quick_ratio() >= threshold and (ratio := matcher.ratio()) >= threshold:
            rows.append({"name_a": a, "name_b": b, "similarity": ratio,
                         "forms_a": int(counts[a]), "forms_b": int(counts[b])})
    return pd.DataFrame(rows, columns=["name_a", "name_b", "similarity", "forms_a", "forms_b"]).sort_values(
        "similarity", ascending=False, ignore_index=True)


def goal_achievement_similarity(projects: pd.DataFrame) -> pd.DataFrame:
    out = projects[["form_id", "unit", "project_name", "goal_text", "achievement_text"]].copy()
    out["similarity"] = [similarity(g, a) for g, a in zip(out["goal_text"], out["achievement_text"])]
    return out.sort_values("similarity", ascending=False, ignore_index=True)


def empty_notes(indicators: pd.DataFrame) -> pd.DataFrame:
    """Indicators whose deviation note (偏差原因) says nothing, split by whether points were lost."""
    note = indicators["deviation_note"].fillna("").map(lambda s: re.sub(r"\s+", "", s))
    lost = (indicators["score"] < indicators["weight"]).fillna(False)
    return pd.DataFrame({"says_nothing": note.isin(EMPTY_NOTES), "points_lost": lost}).value_counts().rename(
        "indicators").reset_index()


def word_frequencies(texts: pd.Series, n: int = 30, stopwords: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Most frequent words (jieba segmentation) of at least two characters."""
    import jieba  # imported here: it loads a dictionary on first use

    jieba.setLogLevel(60)
    counter: Counter[str] = Counter()
    for text in texts.dropna():
        counter.update(w for w in jieba.lcut(squeeze(text)) if len(w) >= 2 and w not in stopwords)
    return pd.DataFrame(counter.most_common(n), columns=["word", "count"])

"""Phrasing measures on small frames whose answers are known, and on the seed forms."""

import pandas as pd
import pytest

from selfeval.analysis import phrasing


def test_similarity_is_character_level():
    assert phrasing.similarity("已完成预期目标", "已完成预期目标。") == 1.0
    assert phrasing.similarity("abc", "xyz") == 0.0
    assert pd.isna(phrasing.similarity(None, "x"))


def test_near_duplicates_finds_one_character_edits():
    # 系统故障修复率 / 硬件故障修复率 share 5 of 7 characters: 2*5/14 = 0.71, below 0.8
    names = pd.Series(["软件维护故障次数", "软件维护故障次数", "硬件维护故障次数", "系统故障修复率", "硬件故障修复率"])
    pairs = phrasing.near_duplicates(names)
    assert list(zip(pairs.name_a, pairs.name_b)) == [("软件维护故障次数", "硬件维护故障次数")]
    assert pairs.similarity[0] == pytest.approx(2 * 7 / 16)
    assert pairs.forms_a[0] == 2


def test_repeated_rows_across_units(unit_tables):
    rows = phrasing.repeated(unit_tables["indicators"], unit_tables["projects"], ["indicator_name"])
    top = rows.set_index("text")
    # 使用人员满意度: 002 lines 38, 62, 101, 128, 169, 202, 235, 289 (forms 1-7 and 9) and 003 line 45
    assert top.loc["使用人员满意度", "forms"] == 9 and top.loc["使用人员满意度", "units"] == 2


def test_empty_notes_counts(seed_tables):
    table = phrasing.empty_notes(seed_tables["indicators"]).set_index(["says_nothing", "points_lost"])
    # 003: every indicator prints 无 (289); 000 and 002 print blanks except a few notes
    assert table["indicators"].sum() == len(seed_tables["indicators"])
    assert table.loc[(False, True), "indicators"] >= 4  # notes where points were lost, e.g. 增加法律培训


def test_word_frequencies_segment_chinese():
    words = phrasing.word_frequencies(pd.Series(["系统利用率", "系统验收合格率", "使用人员满意度"])).set_index("word")
    assert words.loc["系统", "count"] == 2 and words.loc["满意度", "count"] == 1


def test_each_distinct_is_map():
    values = pd.Series(["a b", None, "a b", "c。", "c。"], dtype="string[pyarrow]", index=[5, 4, 3, 2, 1])
    calls = []
    out = phrasing.each_distinct(values, lambda v: calls.append(v) or phrasing.squeeze(v))
    assert out.tolist() == values.map(phrasing.squeeze).tolist() and list(out.index) == [5, 4, 3, 2, 1]
    assert len(calls) == 3  # "a b", "c。" and the missing value, once each


def _repeated_row_by_row(indicators, projects, columns):
    """The definition of phrasing.repeated, one row at a time (its first implementation)."""
    frame = indicators.merge(projects[["form_id", "unit"]], on="form_id", how="left")
    key = frame[columns].fillna("").astype(str).apply(lambda col: col.map(phrasing.squeeze)).agg("|".join, axis=1)
    frame = frame.assign(_key=key)
    frame = frame[frame["_key"].str.replace("|", "", regex=False) != ""]
    g = frame.groupby("_key")
    out = pd.DataFrame(
        {
            "text": g[columns[0]].first()
            if len(columns) == 1
            else g.apply(lambda d: " | ".join(str(d.iloc[0][c]) for c in columns), include_groups=False),
            "forms": g["form_id"].nunique(),
            "units": g["unit"].nunique(),
        }
    )
    out = out[out["forms"] > 1]
    return out.sort_values(["units", "forms"], ascending=False).reset_index(drop=True)


@pytest.mark.parametrize("columns", [["indicator_name"], ["indicator_name", "target_raw", "actual_raw"]])
def test_repeated_equals_the_row_by_row_definition(unit_tables, columns):
    ind, projects = unit_tables["indicators"], unit_tables["projects"]
    expected = _repeated_row_by_row(ind, projects, columns)
    pd.testing.assert_frame_equal(phrasing.repeated(ind, projects, columns), expected, check_dtype=False)


def test_word_frequencies_equal_segmenting_every_row():
    import jieba

    texts = pd.Series(
        ["系统利用率", "系统 验收合格率", None, "使用人员满意度", "系统利用率", "合格率", "验收合格率"] * 3
    )
    counts = {}
    for text in texts.dropna():
        for w in jieba.lcut(phrasing.squeeze(text)):
            if len(w) >= 2:
                counts[w] = counts.get(w, 0) + 1
    expected = sorted(counts.items(), key=lambda kv: -kv[1])  # stable: ties in order of first appearance
    words = phrasing.word_frequencies(texts, n=50)
    assert list(zip(words["word"], words["count"])) == expected


def test_goal_similarity_once_per_distinct_pair(unit_tables):
    p = unit_tables["projects"]
    out = phrasing.goal_achievement_similarity(p).set_index("form_id")["similarity"]
    expected = pd.Series(
        [phrasing.similarity(g, a) for g, a in zip(p["goal_text"], p["achievement_text"])], index=p["form_id"]
    )
    pd.testing.assert_series_equal(out.loc[expected.index], expected, check_names=False)


def test_near_duplicates_say_what_they_searched():
    names = pd.Series(
        ["软件维护故障次数", "软件维护故障次数", "硬件维护故障次数", "系统故障修复率", "硬件故障修复率", "。"]
    )
    every = phrasing.near_duplicates(names)
    assert (every.attrs["names_searched"], every.attrs["names_distinct"]) == (4, 4)
    assert "every pair of the 4 distinct" in phrasing.search_scope(every) and phrasing.cap_note(every) == ""
    capped = phrasing.near_duplicates(names, max_names=2)
    assert (capped.attrs["names_searched"], capped.attrs["names_distinct"]) == (2, 4)
    assert "only the 2 most frequent of 4" in phrasing.search_scope(capped)
    assert phrasing.cap_note(capped) == " among the 2 most frequent of 4 distinct names"


def test_near_duplicates_equal_a_brute_force_search_on_the_seed_names(seed_tables):
    """Issue 12: the length pre-filter dropped valid pairs (23 found of 44). Every pair of
    distinct squeezed seed names compared with difflib, no pre-filter, must give the same pairs."""
    import difflib
    from itertools import combinations

    names = seed_tables["indicators"]["indicator_name"]
    distinct = sorted({phrasing.squeeze(n) for n in names.dropna()} - {""})
    brute = {
        frozenset((a, b))
        for a, b in combinations(distinct, 2)
        if difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= phrasing.NEAR_DUPLICATE
    }
    found = phrasing.near_duplicates(names)
    assert {frozenset((a, b)) for a, b in zip(found.name_a, found.name_b)} == brute
    assert len(brute) == len(found) == 44
    # pairs the old filter (|la - lb| > 0.2 x max) dropped are there: e.g. lengths 7 and 9 can
    # reach 2 x 7 / 16 = 0.875
    assert any(abs(len(a) - len(b)) > 0.2 * max(len(a), len(b)) for a, b in zip(found.name_a, found.name_b))

"""Phrasing measures on small frames whose answers are known, and on the seed forms."""
import pandas as pd
import pytest

from selfeval import phrasing


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

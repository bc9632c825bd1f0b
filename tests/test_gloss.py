"""English glosses of unit and project names (selfeval/vocab/glossary.yaml, selfeval/vocab/gloss.py),
and where an English page shows them: beside the printed name, never instead of it, never in Chinese.

The names are the seed forms' own, as printed in data/raw (file and line in each case)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import etl
from selfeval.analysis import charts, present
from selfeval.analysis.notebook import unit_name
from selfeval.reports import briefing, pages
from selfeval.run import pipeline
from selfeval.vocab import load
from selfeval.vocab.gloss import gloss, segments

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(
    ("printed", "english"),
    [
        # 000_cbaa33e73a3cfdfd.txt lines 7 and 10: the first form's project and its 主管部门
        ("公共事务协管经费", "Public affairs assistance funds"),
        (
            "北京市朝阳区城市管理监督指挥中心",
            "Beijing Chaoyang District Urban Management Supervision and Command Center",
        ),
        # 003_d45a1a0ca283005b.txt line 8: the subdistrict office
        (
            "北京市朝阳区人民政府小关街道办事处",
            "Beijing Chaoyang District People's Government Xiaoguan Subdistrict Office",
        ),
        # 002_fd002be877c499a2.txt line 354: a year, a dash, the command centre's short form, and
        # 接线员工|工资 (hotline staff wages), where line 379 below cuts 接线员|工资
        (
            "2024年-丰台区城指中心接线员工工资及管理经费",
            "2024 – Fengtai District Urban Management Command Center hotline staff wages and management funds",
        ),
        (
            "2024年-新设立街镇配备接线员工资及管理费用",
            "2024 – newly established subdistricts and towns staffing hotline operator wages and management costs",
        ),
        # 003 line 29: an ASCII bracket and a year in it; line 75; line 878: a full-width bracket and a percentage
        ("资产购置(2022年)", "Asset purchase (2022)"),
        ("社区党建经费", "Community Party-building funds"),
        (
            "2021年功能疏解点位专项资金（第二笔预拨40%）",
            "2021 non-capital function relocation sites special fund (second instalment advance allocation 40%)",
        ),
        # 003 line 1062: a list comma and the quoted “两委”
        (
            "疫情防控一线城乡社区工作者、行政村“两委”成员防疫专项补助",
            "Epidemic prevention and control front-line urban and rural community workers, administrative village "
            '"two committees" members epidemic prevention special subsidy',
        ),
    ],
)
def test_gloss_of_seed_names(printed, english):
    assert gloss(printed) == english


def test_swift_response_is_beijings_own_english():
    # the name of the 12345 reform on the Beijing government's English site
    assert gloss("接诉即办坐席外包项目") == "Swift Response to Public Complaints call-centre seats outsourcing project"
    assert load("glossary")["terms"]["接诉即办"] == "Swift Response to Public Complaints"


def test_no_half_english_gloss():
    # 路灯 (street lights) is no term: the name gets no gloss at all, though 经费 and 项目 are terms
    assert gloss("路灯维修经费") is None
    assert segments("路灯维修经费") is None
    assert gloss("社区路灯项目") is None
    # nothing to gloss: no Chinese, empty, missing
    assert gloss("ABC 2024") is None and gloss("") is None and gloss(None) is None and gloss(pd.NA) is None


def test_every_glossary_entry_is_english():
    data = load("glossary")
    for term, english in data["terms"].items():
        assert CJK.search(term) and english and not CJK.search(english), term
    assert all(not CJK.search(v) for v in data["counters"].values())


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    processed = tmp_path_factory.mktemp("gloss") / "processed"
    pipeline.run(etl.RAW_DIR, processed, use_cache=False)
    from selfeval.store import outputs

    return outputs.read_tables(processed)


def test_seed_names_are_covered(tables):
    """What the glossary reaches on the seed data: every project and unit name (70 forms)."""
    projects = tables["projects"]
    names = projects["project_name"].dropna().unique()
    units = pd.concat([projects["department"], projects["implementing_unit"], unit_name(projects)]).dropna().unique()
    assert [n for n in names if gloss(n) is None] == []
    assert [u for u in units if gloss(u) is None] == []
    assert len(names) == 69 and len(units) == 6


META = {"sources": "000, 002, 003", "fingerprint": "f" * 12, "generated": "2026-11-30 12:00"}


@pytest.fixture(scope="module")
def form_pages(tables):
    written = {}
    pages.write_form_pages(
        etl.ROOT / "reports-never-written",
        tables,
        etl.RAW_DIR,
        META,
        lambda path, text: written.__setitem__(path.name, text),
    )
    return written


def test_english_form_page_shows_the_gloss_beside_the_printed_name(form_pages):
    # 002 line 354: the 1,041.03 万元 project of the Fengtai command centre
    en = next(v for k, v in form_pages.items() if k.endswith(".en.html") and "城指中心接线员工工资" in v)
    zh = form_pages[next(k for k, v in form_pages.items() if v is en).replace(".en.", ".zh.")]
    english = "2024 – Fengtai District Urban Management Command Center hotline staff wages and management funds"
    heading = re.search(r"<h1>(.*?)</h1>", en).group(1)
    assert heading.startswith('2024年-丰台区城指中心接线员工工资及管理经费<span class="gloss')
    assert english in heading
    # the fields: 主管部门 and 实施单位 as printed, each with its gloss
    assert "丰台区城市管理指挥中心" in en and "Fengtai District Urban Management Command Center</span>" in en
    assert '<dd>丰台区<span class="gloss gloss-line" lang="en">Fengtai District</span></dd>' in en
    # the Chinese page: the same name, no English gloss anywhere
    assert "2024年-丰台区城指中心接线员工工资及管理经费" in zh
    assert 'class="gloss' not in zh and english not in zh and "Urban Management Command Center" not in zh


def test_forms_index_glosses_names_in_english_only(form_pages):
    en, zh = form_pages["index.en.html"], form_pages["index.zh.html"]
    assert en.count('class="gloss gloss-line"') >= 70 + 70  # every project name and every unit
    assert "社区党建经费" in en and ">Community Party-building funds</span>" in en
    assert "社区党建经费" in zh and "Community Party-building funds" not in zh and 'class="gloss' not in zh


def test_ranked_table_and_findings_carry_the_gloss_in_english(tables):
    projects = tables["projects"].assign(unit=unit_name(tables["projects"]))
    one = projects[projects["project_name"] == "社区党建经费"]
    columns = [present.col(c) for c in ("project_name:form", "unit", "full_year_budget:money")]
    en = present.table_html(one, columns, "en", "ranking-table")
    zh = present.table_html(one, columns, "zh", "ranking-table")
    assert ">社区党建经费<" in en and ">Community Party-building funds</span>" in en
    assert ">Beijing Chaoyang District People&#x27;s Government Xiaoguan Subdistrict Office</span>" in en  # escaped
    assert ">社区党建经费<" in zh and 'class="gloss' not in zh
    # a finding names the form inline: "name (gloss) (id)"
    finding = present.Finding("nb01.f_under", "ranking", {"n": "1"}, [(one["form_id"].iloc[0], "社区党建经费")])
    assert '社区党建经费 <span class="gloss" lang="en">(Community Party-building funds)</span> (' in finding.render(
        "en"
    )
    assert "Community Party-building funds" not in finding.render("zh")
    # the download: the printed name kept, its gloss in a column of its own (English only)
    down = present.download_frame(one, columns, "en")
    assert list(down.columns[:4]) == ["Form id", "Project", "Project (English gloss)", "Unit"]
    assert down["Project"].tolist() == ["社区党建经费"]
    assert down["Project (English gloss)"].tolist() == ["Community Party-building funds"]
    assert not any("gloss" in c or "英文" in c for c in present.download_frame(one, columns, "zh").columns)


def test_briefing_title_is_glossed_in_english(tables, tmp_path):
    projects = tables["projects"].assign(unit=unit_name(tables["projects"]))
    charts.use_style()  # the CJK font, as briefing.write_all sets it
    unit = "丰台区城市管理指挥中心"
    group = projects[projects["unit"] == unit]
    ind = tables["indicators"][tables["indicators"]["form_id"].isin(group["form_id"])]
    html = {
        lang: briefing.briefing_page(
            unit, group, ind, lang=lang, meta=META, folder=tmp_path / lang, slug=briefing.unit_slug(unit)
        )
        for lang in ("zh", "en")
    }
    h1 = re.search(r"<h1>(.*?)</h1>", html["en"]).group(1)
    assert h1.startswith("丰台区城市管理指挥中心 · self-evaluation briefing")
    assert h1.endswith(
        '<span class="gloss gloss-line" lang="en">Fengtai District Urban Management Command Center</span>'
    )
    assert "Fengtai District" not in html["zh"]


def test_download_of_a_list_column_is_words():
    """A list cell (the checks a form fired) is downloaded as the page shows it, not as "['a', 'b']"."""
    frame = pd.DataFrame({"form_id": ["f#001"], "project_name": ["社区党建经费"], "check_names": [["甲", "乙"]]})
    columns = [present.col(c) for c in ("project_name:form", "check_names:list")]
    assert present.download_frame(frame, columns, "zh")["检查项"].tolist() == ["甲、乙"]
    assert present.download_frame(frame, columns, "en")["Checks"].tolist() == ["甲; 乙"]

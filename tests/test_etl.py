"""The ETL against the seed files: values read from the raw text by eye.

Line numbers and values below were read in data/raw/ with a text editor; each
test names the file and line so a reader can check them.
"""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

import etl
from selfeval.run import pipeline

F000 = "000_cbaa33e73a3cfdfd"
F002 = "002_fd002be877c499a2"
F003 = "003_d45a1a0ca283005b"


def form(tables, form_id):
    projects = tables["projects"].set_index("form_id")
    return projects.loc[form_id]


def indicators(tables, form_id):
    ind = tables["indicators"]
    return ind[ind.form_id == form_id].set_index("indicator_order")


def fund(tables, form_id, line):
    funds = tables["funds"]
    return funds[(funds.form_id == form_id) & (funds.fund_line == line)].iloc[0]


def is_null(value):
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


# --- counts and reconciliation -------------------------------------------------------------


def test_seventy_forms_no_errors(seed_tables):
    projects = seed_tables["projects"]
    assert len(projects) == 70
    assert projects.groupby("source_file").size().to_dict() == {f"{F000}.txt": 7, f"{F002}.txt": 15, f"{F003}.txt": 48}
    assert (seed_tables["parse_issues"]["severity"] != "error").all()
    files = seed_tables["files"].set_index("source_file")
    assert (files["titles_seen"] == files["forms_loaded"] + files["forms_rejected"]).all()
    assert set(files["status"]) == {"ok"}


def _indicator_rows_in_raw(path):
    """Count indicator rows independently of the parser: in a tab file, the
    non-blank lines between a 一级指标 header line and the next 总分 line; in the
    Word export, the row blocks between them (one per blank-line-separated block)."""
    text = path.read_text(encoding="utf-8")
    count, inside = 0, False
    if "\t一级指标\n" in text:  # Word export: a row is a block of "\t" lines
        for block in re.split(r"\n[ ]*\n", text):
            if "一级指标" in block:
                inside = True
            elif block.strip().startswith("总分"):
                inside = False
            elif inside and block.strip():
                count += 1
        return count
    for line in text.split("\n"):
        if "一级指标" in line:
            inside = True
        elif line.startswith("总分"):
            inside = False
        elif inside and line.strip():
            count += 1
    return count


def test_indicator_and_fund_counts_reconcile_with_raw(seed_tables):
    ind = seed_tables["indicators"]
    for stem in (F000, F002, F003):
        expected = _indicator_rows_in_raw(etl.RAW_DIR / f"{stem}.txt")
        assert (ind.form_id.str.startswith(stem)).sum() == expected, stem
    # 000: form 1 has 6 indicators, the other six forms 7 each; 003: 48 x 6 + 1 (病媒消杀 has 7)
    assert (ind.form_id.str.startswith(F000)).sum() == 6 + 6 * 7
    assert (ind.form_id.str.startswith(F003)).sum() == 48 * 6 + 1
    # every form prints four fund lines
    assert len(seed_tables["funds"]) == 70 * 4


# --- file 000: Word export, one cell per line ------------------------------------------------


def test_000_form1_whole(seed_tables):
    """000 lines 3-120: 公共事务协管经费."""
    fid = f"{F000}#001"
    p = form(seed_tables, fid)
    assert (p.project_name, p.year, p.district, p.district_source) == ("公共事务协管经费", 2021, "朝阳区", "title")
    assert p.department == p.implementing_unit == "北京市朝阳区城市管理监督指挥中心"
    assert (p.contact_person, p.phone) == ("穆艳艳、郑彬", "65099882")
    assert p.goal_text == "正常支付1205名监督员、133名座席员各项费用（工资、保险、公积金、管理服务费、绩效奖金）"
    assert p.achievement_text == "已完成预期目标"
    assert (p.initial_budget, p.full_year_budget, p.executed) == (9234.4314, 9234.4314, 8216.7841)
    assert (p.budget_weight, p.execution_rate_raw, p.budget_score) == (10, "88.97%", 9)
    assert p.execution_rate == pytest.approx(0.8897)
    assert (p.total_weight, p.total_score) == (100, 99)
    sub = fund(seed_tables, fid, "current_appropriation")
    assert (sub.full_year_budget, sub.weight_raw, sub.execution_rate, sub.score_raw) == (
        9234.4314,
        "—",
        pytest.approx(0.8897),
        "—",
    )
    assert is_null(sub.weight) and is_null(sub.score)
    carry = fund(seed_tables, fid, "carryover")
    assert all(is_null(carry[c]) for c in ("initial_budget", "full_year_budget", "executed", "execution_rate"))
    ind = indicators(seed_tables, fid)
    assert len(ind) == 6
    first = ind.loc[1]
    assert (first.level1, first.level2, first.indicator_prefix) == ("output", "quantity", "指标1")
    assert first.indicator_name == "支付监督员、座席员工资、保险、公积金、管理服务费、绩效奖金"
    assert (first.target_raw, first.actual_raw) == ("1205名监督员、133名座席员", "监督员月均911人；座席员月均128人")
    assert (first.weight, first.score, first.deviation_note) == (10, 10, "监督员改革下沉街乡人员减少")
    assert list(ind.level2) == ["quantity", "quality", "timeliness", "cost", "social_benefit", "satisfaction"]
    # 社会效益 is printed without its level-1 (效益指标): inferred from the level-2
    assert (ind.loc[5].level1, ind.loc[5].level2_raw) == ("effect", "社会效益指标")
    assert is_null(ind.loc[5].level1_raw)
    assert list(ind.weight) == [10, 20, 20, 20, 10, 10]
    assert ind.loc[6].indicator_name == "受益群众满意度达到80%"
    assert is_null(ind.loc[2].deviation_note)


def test_000_duplicate_project_names_are_two_forms(seed_tables):
    """000 lines 122 and 244: both named 2021年度市民热线“接诉即办”工作专项资金."""
    projects = seed_tables["projects"]
    same = projects[projects.project_name == "2021年度市民热线“接诉即办”工作专项资金"]
    assert list(same.form_id) == [f"{F000}#002", f"{F000}#003"]
    assert list(same.full_year_budget) == [100, 2200]
    assert list(same.contact_person) == ["杜新普", "杜新普"]


def test_000_form4_cost_indicator(seed_tables):
    """000 line ~600: 服务器购置, 成本指标 50万 vs 49.75万 with a deviation note."""
    fid = f"{F000}#004"
    p = form(seed_tables, fid)
    assert (p.project_name, p.full_year_budget, p.executed, p.phone) == (
        "朝阳区市民热线“接诉即办”系统服务器购置",
        50,
        49.75,
        "50981531",
    )
    cost = indicators(seed_tables, fid).query("level2 == 'cost'").iloc[0]
    assert (cost.target_raw, cost.actual_raw, cost.deviation_note) == ("50万", "49.75万", "政府采购供应商调整价格")


# --- file 002: PDF export, shifted cells, page break ----------------------------------------


def test_002_form1_whole(seed_tables):
    """002 lines 3-39: 网格化城市服务管理系统平台运维经费."""
    fid = f"{F002}#001"
    p = form(seed_tables, fid)
    assert p.project_name == "2024年-城指中心网格化城市服务管理系统平台运维经费"
    assert (p.year, p.district, p.district_source) == (2024, "丰台区", "department")
    assert p.department == p.implementing_unit == "丰台区城市管理指挥中心"
    assert is_null(p.contact_person) and is_null(p.phone)  # this template has no 项目负责人 row
    assert (p.initial_budget, p.full_year_budget, p.executed, p.budget_score) == (128.18, 128.18, 127.85, 9.97)
    assert p.execution_rate == pytest.approx(0.9974)
    assert (p.total_weight, p.total_score) == (100, 99.97)
    assert p.achievement_text == "完成了2024年度网格化城市服务管理系统平台安全稳定运行的运维保障工作。"
    ind = indicators(seed_tables, fid)
    assert len(ind) == 22
    assert tuple(ind.loc[4][["indicator_name", "target_raw", "actual_raw", "weight", "score"]]) == (
        "数据维护数量",
        "≥1500000",
        "1500000",
        6,
        6,
    )
    # line 35: 成本指标 printed as level-1 with 经济成本指标, in the first column
    row = ind.loc[19]
    assert (row.line, row.level1, row.level2, row.indicator_name, row.target_raw, row.actual_raw) == (
        35,
        "cost",
        "economic_cost",
        "硬件维护成本",
        "≤65.88万",
        "65.88",
    )
    assert (ind.loc[22].level1, ind.loc[22].indicator_name, ind.loc[22].weight) == ("satisfaction", "使用人员满意度", 3)
    assert ind.weight.sum() == 90


def test_002_shifted_rows(seed_tables):
    """002 line 69: 项目名称 value shifted one cell right; line 82: ≥400000 vs 40000;
    line 127: 满意度指标 printed beside 经济成本指标 (level-1 taken from the level-2)."""
    assert form(seed_tables, f"{F002}#003").project_name == "2024年-城指中心接诉即办运维项目"
    row = indicators(seed_tables, f"{F002}#003").query("line == 82").iloc[0]
    assert (row.indicator_name, row.target_raw, row.actual_raw, row.weight, row.score) == (
        "数据维护数量",
        "≥400000",
        "40000",
        6,
        6,
    )
    row = indicators(seed_tables, f"{F002}#004").query("line == 127").iloc[0]
    assert (row.level1_raw, row.level1, row.level2) == ("满意度指标", "cost", "economic_cost")
    assert (row.indicator_name, row.target_raw, row.actual_raw) == ("软件开发成本", "≤153.48万元", "≤153.4")
    issues = seed_tables["parse_issues"]
    assert ((issues.form_id == f"{F002}#004") & (issues.line == 127) & (issues.severity == "repaired")).any()
    # line 145: 数量指标 and 产出指标 swapped
    row = indicators(seed_tables, f"{F002}#005").query("line == 145").iloc[0]
    assert (row.level1, row.level2, row.indicator_name) == ("output", "quantity", "应用系统维护数量")


def test_002_values_shifted_right_in_funds(seed_tables):
    """002 lines 244-248 (法律顾问经费): fund values one cell right of the label;
    line 405 (新增32名): 年初预算数 printed '-' and the row shifted right."""
    p = form(seed_tables, f"{F002}#008")
    assert (p.initial_budget, p.full_year_budget, p.executed, p.budget_weight, p.budget_score) == (5, 5, 5, 10, 10)
    assert p.implementing_unit == "组宣科"
    p = form(seed_tables, f"{F002}#014")
    assert is_null(p.initial_budget) and p.execution_rate_raw == "97.60%"
    assert (p.full_year_budget, p.executed, p.budget_score) == (270.39, 263.91, 9.7)
    sub = fund(seed_tables, f"{F002}#014", "current_appropriation")
    assert is_null(sub.initial_budget) and (sub.full_year_budget, sub.executed) == (270.39, 263.91)


def test_002_page_split_form_is_one_form(seed_tables):
    """002 lines 135-170: 智能民情图 continues after a blank line (page break) at 154."""
    fid = f"{F002}#005"
    p = form(seed_tables, fid)
    assert p.project_name == "2024年-丰台区智能民情图-基层综合服务平台运维"
    assert (p.total_weight, p.total_score, p.execution_rate_raw) == (100, 97.72, "77.25%")
    assert is_null(p.budget_score)  # the 得分 column is blank on this form
    ind = indicators(seed_tables, fid)
    assert len(ind) == 24
    after = ind.query("line == 155").iloc[0]
    assert (after.indicator_name, after.target_raw, after.actual_raw, after.weight) == (
        "软件维护故障次数",
        "≤ 10 次",
        "10 次",
        5,
    )
    assert ind.loc[24].indicator_name == "使用人员满意度"
    assert all(
        f.startswith(F002) for f in seed_tables["projects"].form_id if "智能民情图" in form(seed_tables, f).project_name
    )


def test_002_stray_space_in_total(seed_tables):
    """002 line 236: 总分 printed '99. 91'."""
    p = form(seed_tables, f"{F002}#007")
    assert (p.total_score_raw, p.total_score) == ("99. 91", 99.91)
    issues = seed_tables["parse_issues"]
    hit = issues[(issues.form_id == f"{F002}#007") & (issues.field == "total_score")]
    assert list(hit.severity) == ["repaired"]


def test_002_one_value_missing(seed_tables):
    """002 line 343: only 正常运转 printed after the name; kept as target, actual null, warned."""
    row = indicators(seed_tables, f"{F002}#011").query("line == 343").iloc[0]
    assert (row.indicator_name, row.target_raw) == ("保障城市运行指挥中心系统的正常运转", "正常运转")
    assert is_null(row.actual_raw)
    p = form(seed_tables, f"{F002}#011")
    assert is_null(p.initial_budget)
    assert fund(seed_tables, f"{F002}#011", "total").initial_budget_raw == "-"
    assert (p.full_year_budget, p.executed, p.execution_rate_raw, p.budget_score) == (863.10, 843.53, "97.73%", 9.7)


# --- file 003: tab rows, 指标1： prefixes, 10% weights --------------------------------------


def test_003_form1_whole(seed_tables):
    """003 lines 3-24: 财务管理软件运维服务经费."""
    fid = f"{F003}#001"
    p = form(seed_tables, fid)
    assert (p.project_name, p.year, p.district) == ("财务管理软件运维服务经费", 2022, "朝阳区")
    assert p.department == "北京市朝阳区人民政府小关街道办事处"
    assert (p.contact_person, p.phone) == ("李慧娟", "84856645")
    assert (p.initial_budget, p.full_year_budget, p.executed, p.execution_rate, p.budget_score) == (
        0.69,
        0.69,
        0.69,
        1.0,
        10,
    )
    assert (p.goal_text, p.achievement_text) == ("保障财务管理软件正常使用。", "已完成")
    carry = fund(seed_tables, fid, "carryover")
    assert carry.initial_budget_raw == "—" and is_null(carry.initial_budget)
    ind = indicators(seed_tables, fid)
    assert list(ind.indicator_prefix) == ["指标1"] * 6
    assert list(ind.indicator_name) == [
        "办事处一套财务管理软件运维",
        "软件及系统故障",
        "故障排除时间",
        "每年运维服务成本",
        "对部门业务发展的正面影响",
        "使用人满意度",
    ]
    assert list(ind.target_raw) == ["1", "≤10次", "≤2工作日", "6900元/年", "100%", "100%"]
    assert list(ind.actual_raw) == ["1", "0", "0", "6900", "100%", "100%"]
    assert list(ind.weight) == [10, 10, 10, 20, 30, 10]
    assert list(ind.deviation_note) == ["无"] * 6
    assert list(ind.level1) == ["output"] * 4 + ["effect", "satisfaction"]


def test_003_percent_weights(seed_tables):
    """003 lines 40-45 (资产购置): weights printed 10%, 20%, 30% mean points."""
    fid = f"{F003}#002"
    ind = indicators(seed_tables, fid)
    assert list(ind.weight_raw) == ["10%", "10%", "10%", "20%", "30%", "10%"]
    assert list(ind.weight) == [10, 10, 10, 20, 30, 10]
    assert (ind.loc[1].target_raw, ind.loc[1].actual_raw) == ("268件", "100%")
    assert (ind.loc[4].target_raw, ind.loc[4].actual_raw) == ("≤608540元", "81497元")
    p = form(seed_tables, fid)
    assert (p.initial_budget, p.full_year_budget, p.executed) == (8.21, 8.1497, 8.1497)
    # level-2 printed with spaces inside: "服务对象 满意度指 标"
    assert ind.loc[6].level2 == "satisfaction"


def test_003_title_and_year_on_one_line(seed_tables):
    """003 line 231: '朝阳区项目支出绩效自评表 (2022年度)' on one line starts 民警驻社区经费."""
    p = form(seed_tables, f"{F003}#011")
    assert (p.project_name, p.first_line, p.year) == ("民警驻社区经费", 231, 2022)
    assert form(seed_tables, f"{F003}#010").n_indicators == 6


def test_003_empty_target_cell(seed_tables):
    """003 line 894: target cell empty, 90% is the actual (its own column)."""
    row = seed_tables["indicators"].query("line == 894 and form_id.str.startswith(@F003)").iloc[0]
    assert row.indicator_name == "对工程质量完成的满意度"
    assert is_null(row.target_raw) and row.actual_raw == "90%"


def test_003_code_prefixed_department(seed_tables):
    """003 line 625 (form 28) prints 主管部门 '618-小关' and 实施单位 '618001-北京市...'."""
    p = form(seed_tables, f"{F003}#028")
    assert (p.department, p.implementing_unit) == ("618-小关", "618001-北京市朝阳区人民政府小关街道办事处")
    assert (p.district, p.district_source) == ("朝阳区", "title")


def test_cache_fingerprint_covers_every_module_the_etl_imports():
    """The parse cache is keyed by the files of run.cache.ETL_PACKAGES: a module the ETL imports
    from outside them would let a changed parser reuse stale tables."""
    import ast

    from selfeval.run import cache

    package = cache.PACKAGE_DIR
    covered = {path.relative_to(package).with_suffix("").as_posix().replace("/", ".") for path in cache.etl_sources()}
    # code that cannot change a table: where folders are, and which build of the same code runs
    outside = {"paths", "compiled", "__init__"}
    for path in cache.etl_sources():
        if path.suffix != ".py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("selfeval"):
                names = [node.module.removeprefix("selfeval").lstrip(".")]
                names += [f"{names[0]}.{alias.name}".lstrip(".") for alias in node.names]
                # "from selfeval.x import name": either x or x.name is a module; one must be covered
                modules = [
                    n
                    for n in names
                    if n
                    and (
                        (package / f"{n.replace('.', '/')}.py").exists()
                        or (package / n.replace(".", "/") / "__init__.py").exists()
                    )
                ]
                assert modules, (path, node.module)
                for module in modules:
                    top = module.split(".")[0]
                    assert module in covered or f"{module}.__init__" in covered or top in outside, (path, module)


def test_arrow_copy_and_parquet_hold_the_same_tables(tmp_path):
    """etl.load() reads the memory-mapped Arrow IPC copy; Parquet is what users share."""
    import pyarrow.parquet as pq

    from selfeval.schema import fields as schema
    from selfeval.store import outputs

    pipeline.run(etl.RAW_DIR, tmp_path)
    loaded = outputs.read_tables(tmp_path)
    assert set(loaded) == set(schema.TABLE_NAMES)
    for name, frame in loaded.items():
        assert (tmp_path / f"{name}.arrow").exists()
        pd.testing.assert_frame_equal(frame, schema.to_pandas(pq.read_table(tmp_path / f"{name}.parquet")))
    assert len(loaded["indicators"]) == 540 and loaded["projects"]["project_name"].dtype == "string[pyarrow]"

"""Budget execution figures against values read from the raw forms."""

import pytest

from selfeval.analysis import execution

F002 = "002_fd002be877c499a2"


@pytest.fixture(scope="module")
def table(unit_tables):
    return execution.per_project(unit_tables["projects"]).set_index("form_id")


def test_rate_is_executed_over_full_year_budget(table):
    # 002 line 48: 191.2947 initial, 89.2947 full-year, 67.7492 executed, printed 75.87%
    row = table.loc[f"{F002}#002"]
    assert row.rate_computed == pytest.approx(67.7492 / 89.2947)
    assert row.rate_printed == pytest.approx(0.7587)
    assert row.budget_change == pytest.approx(89.2947 - 191.2947)
    assert row.unspent == pytest.approx(89.2947 - 67.7492)
    assert bool(row.under_90)


def test_missing_initial_budget_stays_null(table):
    # 002 line 329 (坐席外包): 年初预算数 printed "-"
    row = table.loc[f"{F002}#011"]
    assert row.initial_budget is None or str(row.initial_budget) == "<NA>"
    assert str(row.budget_change) == "<NA>"


def test_per_unit_totals(table, seed_tables):
    units = execution.per_unit(table.reset_index())
    fengtai = units.loc["丰台区城市管理指挥中心"]
    assert fengtai.forms == 15
    # sum of the 15 全年执行数 printed in 002, added by hand from lines 10..284
    executed = [
        127.85,
        67.7492,
        40.68,
        100.4004,
        51.62,
        77.532,
        176.6644,
        5,
        49.8,
        710.8,
        843.53,
        1036.44,
        624.43,
        263.91,
        124.81,
    ]
    assert fengtai.executed == pytest.approx(sum(executed))
    assert set(units.index) == {
        "丰台区城市管理指挥中心",
        "北京市朝阳区城市管理监督指挥中心",
        "北京市朝阳区人民政府小关街道办事处",
    }


def test_under_executed_lists_the_low_projects(table):
    low = execution.under_executed(table.reset_index())
    # 002: 搬迁信息化建设 75.87%, 智能民情图 77.25%, 重点治理 61.85%, 通讯保障 89.49%; 000: 协管经费 88.97%
    assert set(low.form_id) >= {f"{F002}#002", f"{F002}#004", f"{F002}#005", f"{F002}#006", "000_cbaa33e73a3cfdfd#001"}
    assert (low.rate_computed < 0.9).all()

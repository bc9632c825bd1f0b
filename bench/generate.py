"""A deterministic synthetic corpus of N forms, and what the ETL should read from it.

    python -m bench.generate --forms 1000 --seed 1 --out bench/out/1000

The seed forms (data/raw) are recombined and perturbed: new project names and
amounts, indicators drawn from the seed forms, both layouts (Word: a cell per
line; PDF: tab rows), cells shifted right, swapped level cells, page breaks
inside the indicator table, blank fund lines, "10%" weights, stray spaces in
numbers, and CRLF, BOM and GB18030 files. Beside the raw files it writes
expected.csv: per form the values the generator put in, so correctness at
scale is checked against the generator, not against the parser.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

from selfeval.run import pipeline
from selfeval.vocab.labels import VOCAB

ROOT = Path(__file__).resolve().parent.parent


FORMS_PER_FILE = 50
EXPECTED_COLUMNS = [
    "form_id",
    "source_file",
    "project_name",
    "department",
    "district",
    "year",
    "full_year_budget",
    "executed",
    "total_score",
    "n_indicators",
    "weight_sum",
    "score_sum",
]
LEVEL1_LABEL = {code: labels[0] for code, labels in VOCAB["level1"].items()}
LEVEL2_LABEL = {code: spec["labels"][0] for code, spec in VOCAB["level2"].items()}
UNITS = [
    ("北京市朝阳区城市管理监督指挥中心", "朝阳区"),
    ("丰台区城市管理指挥中心", "丰台区"),
    ("北京市朝阳区人民政府小关街道办事处", "朝阳区"),
    ("北京市海淀区某某街道办事处", "海淀区"),
]


def seed_indicators() -> list[dict]:
    """Indicator rows of the seed forms with both levels known, as building blocks."""
    frames = pipeline.collect(ROOT / "data" / "raw")
    ind = frames["indicators"]
    ind = ind[
        ind.level1.notna()
        & ind.level2.notna()
        & ind.indicator_name.notna()
        & ind.target_raw.notna()
        & ind.actual_raw.notna()
    ]
    return ind[["level1", "level2", "indicator_name", "target_raw", "actual_raw", "deviation_note"]].to_dict("records")


def make_form(rng: random.Random, number: int, pool: list[dict]) -> dict:
    department, district = rng.choice(UNITS)
    picks = sorted(
        rng.sample(pool, rng.randint(5, 12)),
        key=lambda r: (list(LEVEL1_LABEL).index(r["level1"]), list(LEVEL2_LABEL).index(r["level2"])),
    )
    weights = _split(rng, 90, len(picks))
    indicators = []
    for pick, weight in zip(picks, weights):
        score = weight if rng.random() < 0.85 else round(weight * rng.uniform(0.5, 1), 2)
        indicators.append({**pick, "weight": weight, "score": score})
    budget = round(rng.uniform(1, 5000), 4)
    initial = budget if rng.random() < 0.8 else round(budget * rng.uniform(0.8, 1.3), 4)
    executed = round(budget * rng.uniform(0.5, 1), 4)
    rate = executed / budget
    budget_score = round(min(rate, 1) * 10, 2)
    return {
        "project_name": f"合成项目{number:06d}-{rng.choice(['运维', '购置', '补助', '建设', '服务'])}经费",
        "department": department,
        "district": district,
        "year": rng.choice([2021, 2022, 2023, 2024]),
        "contact": rng.choice(["张三", "李四", None]),
        "phone": str(rng.randint(10_000_000, 99_999_999)),
        "initial": initial,
        "budget": budget,
        "executed": executed,
        "rate": f"{rate * 100:.2f}%",
        "budget_score": budget_score,
        "goal": "保障项目顺利实施。",
        "achievement": rng.choice(["已完成", "已完成预期目标"]),
        "indicators": indicators,
        "total_score": round(budget_score + sum(i["score"] for i in indicators), 2),
    }


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    return [b - a for a, b in zip([0] + cuts, cuts + [total])]


def _num(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _level_cells(form: dict) -> list[tuple[str, str]]:
    """(level-1 cell, level-2 cell) per indicator: printed on a group's first row only."""
    cells, last1, last2 = [], None, None
    newer = any(i["level1"] == "cost" for i in form["indicators"])
    for ind in form["indicators"]:
        l1 = LEVEL1_LABEL[ind["level1"]] if ind["level1"] != last1 else ""
        l2 = LEVEL2_LABEL[ind["level2"]] if (ind["level2"], ind["level1"]) != last2 else ""
        if ind["level2"] == "cost" and not newer:
            l1 = l1 if ind["level1"] != last1 else ""
        cells.append((l1, l2))
        last1, last2 = ind["level1"], (ind["level2"], ind["level1"])
    return cells


def _rows(form: dict, rng: random.Random, pdf: bool) -> list[list[str]]:
    """The form as rows of cells, with the damage a PDF export does when pdf is True."""
    shift = (lambda: [""] * rng.choice([0, 0, 1])) if pdf else (lambda: [])
    title = [f"{form['district']}项目支出绩效自评表"] if rng.random() < 0.7 else ["项目支出绩效自评表"]
    rows = [
        title,
        [f"({form['year']}年度)"],
        ["项目名称", *shift(), form["project_name"]],
        ["主管部门", *shift(), form["department"], "实施单位", form["department"]],
    ]
    if form["contact"]:
        rows.append(["项目负责人", form["contact"], "联系电话", form["phone"]])
    rows.append(["项目资金(万元)", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"])
    rows.append(
        [
            "",
            "年度资金总额",
            *shift(),
            _num(form["initial"]),
            _num(form["budget"]),
            _num(form["executed"]),
            "10",
            form["rate"],
            _num(form["budget_score"]),
        ]
    )
    rows.append(
        [
            "",
            "其中：当年财政拨款",
            *shift(),
            _num(form["initial"]),
            _num(form["budget"]),
            _num(form["executed"]),
            "—",
            form["rate"],
            "—",
        ]
    )
    blank = rng.choice(["", "—"])
    rows += [["", "上年结转资金", blank, blank, blank, "—", "", "—"], ["", "其他资金", "", "", "", "—", "", "—"]]
    rows += [["年度总体目标", "预期目标", "实际完成情况"], ["", form["goal"], form["achievement"]]]
    rows.append(
        [
            "绩效指标",
            "一级指标",
            "二级指标",
            "三级指标",
            "年度指标值",
            "实际完成值",
            "分值",
            "得分",
            "偏差原因分析及改进措施",
        ]
    )
    percent_weights = pdf and rng.random() < 0.2
    prefix = rng.random() < 0.4
    for n, (ind, (l1, l2)) in enumerate(zip(form["indicators"], _level_cells(form)), start=1):
        levels = [l2, l1] if (pdf and l1 and l2 and rng.random() < 0.2) else [l1, l2]
        weight = f"{ind['weight']}%" if percent_weights else str(ind["weight"])
        name = f"指标{n}：{ind['indicator_name']}" if prefix else ind["indicator_name"]
        rows.append(
            [
                "",
                *levels,
                name,
                ind["target_raw"],
                ind["actual_raw"],
                weight,
                _num(ind["score"]),
                ind["deviation_note"] or "",
            ]
        )
        if pdf and rng.random() < 0.05:
            rows.append([])  # a page break inside the indicator table
    total = _num(form["total_score"])
    if pdf and rng.random() < 0.1 and "." in total:
        total = total.replace(".", ". ", 1)  # stray space, as in 002's "99. 91"
    rows.append(["总分", "100", total])
    return rows


def render(form: dict, rng: random.Random, pdf: bool) -> str:
    rows = _rows(form, rng, pdf)
    if pdf:
        return "\n".join("\t".join(row) for row in rows) + "\n\n"
    out = []
    for row in rows:  # Word export: each cell on its own line behind a tab, a blank line after a row
        out += ["\t" + cell for cell in row] + [""]
    return "\n".join(out) + " \n"


def generate(forms: int, seed: int, out: Path, forms_per_file: int = FORMS_PER_FILE) -> Path:
    """forms_per_file: FORMS_PER_FILE, or all forms in one file (--one-file: a file of 100,000 forms)."""
    rng = random.Random(seed)
    pool = seed_indicators()
    raw = out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    expected = []
    for file_number in range((forms + forms_per_file - 1) // forms_per_file):
        name = f"synthetic_{file_number:05d}.txt"
        pdf = file_number % 2 == 1
        texts = []
        for ordinal in range(1, min(forms_per_file, forms - file_number * forms_per_file) + 1):
            form = make_form(rng, file_number * forms_per_file + ordinal, pool)
            texts.append(render(form, rng, pdf))
            expected.append(
                {
                    "form_id": f"{Path(name).stem}#{ordinal:03d}",
                    "source_file": name,
                    "project_name": form["project_name"],
                    "department": form["department"],
                    "district": form["district"],
                    "year": form["year"],
                    "full_year_budget": form["budget"],
                    "executed": form["executed"],
                    "total_score": form["total_score"],
                    "n_indicators": len(form["indicators"]),
                    "weight_sum": 90,
                    "score_sum": round(sum(i["score"] for i in form["indicators"]), 2),
                }
            )
        text = "".join(texts)
        if file_number % 5 == 2:
            text = text.replace("\n", "\r\n")
        encoding = "gb18030" if file_number % 7 == 3 else ("utf-8-sig" if file_number % 11 == 4 else "utf-8")
        (raw / name).write_bytes(text.encode(encoding))
    with open(out / "expected.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=EXPECTED_COLUMNS)
        writer.writeheader()
        writer.writerows(expected)
    return raw


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--forms", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--one-file", action="store_true", help="all forms in one file (a single large file)")
    args = parser.parse_args(argv)
    raw = generate(args.forms, args.seed, args.out, max(1, args.forms) if args.one_file else FORMS_PER_FILE)
    print(f"{args.forms} forms in {len(list(raw.glob('*.txt')))} files under {raw}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The closed sets of codes the tables may hold, and the named bounds every stage shares.

Declared once here (a leaf: imports nothing of selfeval): the schema validates against them,
the parser and the re-scoring produce them, the analysis names them.
"""

from __future__ import annotations

from dataclasses import dataclass

# What a printed target or actual holds (values.parse_value), and its comparator.
KINDS = ("quantitative", "rating", "rating_scale", "qualitative", "compound", "empty", "text")
COMPARATORS = (">=", ">", "=", "<=", "<")
# Evidence on the form for an indicator's points (score.values.evidence): no actual, a claim with no
# value, the target repeated, a value or result of its own.
EVIDENCE_CLASSES = ("missing", "bare_claim", "restated", "measured")

# No amount, count, rate, weight or score on a form comes near this: a larger printed number
# (or a negative amount) is left empty with a warning (parse.numbers) or read as text (score.values).
MAX_VALUE = 1e12

# Printed and computed numbers are compared with these tolerances: 0.01 points for
# scores and weights, 0.01 percentage points (0.0001 as a fraction) for rates.
TOLERANCE_POINTS = 0.01
TOLERANCE_RATE = 0.0001

# Level-2 codes (and the level-1 code) of cost indicators (成本指标, see vocab/labels.yaml level2): lower is better
# when their target has no comparator ("50万" budgeted, "49.75万" spent).
COST_LEVEL2 = ("cost", "economic_cost", "social_cost", "ecological_cost")
COST_LEVEL1 = "cost"

# Re-scoring (score.scoring): the rule's direction, the rate's basis, the bands and grades,
# and why an indicator cannot be re-scored from the form (indicators.unverifiable_reason).
DIRECTIONS = ("higher", "lower", "exact")
BASES = ("full_year", "initial", "neither")  # which denominator the printed rate matches
BANDS = ("achieved", "partly_achieved", "not_achieved")  # 达成 / 部分达成 / 未达成
GRADES = ("excellent", "good", "fair", "poor")  # 优 / 良 / 中 / 差

# Why an indicator cannot be re-scored from the form (indicators.unverifiable_reason).
TARGET_MISSING = "target missing"
ACTUAL_MISSING = "actual missing"
RATING = "rating"
COMPOUND = "compound"
QUALITATIVE = "qualitative"
UNITS_NOT_COMPARABLE = "units not comparable"
REPEATS_TARGET = "actual repeats target"
ACTUAL_IS_BOUND = "actual is a bound"
NEGATIVE = "negative value"
REASONS = (
    TARGET_MISSING,
    ACTUAL_MISSING,
    RATING,
    COMPOUND,
    QUALITATIVE,
    UNITS_NOT_COMPARABLE,
    REPEATS_TARGET,
    ACTUAL_IS_BOUND,
    NEGATIVE,
)

# The checks table (score.checks): every check's name, level, severity and meaning.
# A target "far exceeded" when the actual beats it by more than this factor
# (财预〔2020〕10号: a target set too low is scored down, "按照偏离度适度调减分值").
FAR_EXCEEDED = 1.3


@dataclass(frozen=True)
class Check:
    name: str
    level: str  # form | indicator
    severity: str  # error | warning | note
    description: str
    expected: str  # what the expected column holds
    printed: str  # what the printed column holds


CHECKS: dict[str, Check] = {
    c.name: c
    for c in (
        Check(
            "execution_rate_mismatch",
            "form",
            "error",
            "printed 执行率 differs from 全年执行数 / 全年预算数",
            "executed / full-year budget (fraction)",
            "printed execution rate (fraction)",
        ),
        Check(
            "budget_score_mismatch",
            "form",
            "warning",
            "printed budget-execution 得分 differs from min(rate, 1) x weight, or is not printed",
            "rule budget score (points)",
            "printed budget score (points)",
        ),
        Check(
            "weights_total_mismatch",
            "form",
            "error",
            "budget weight + indicator weights differ from the printed total weight (总分 分值)",
            "sum of the printed weights (points)",
            "printed total weight (points)",
        ),
        Check(
            "score_total_mismatch",
            "form",
            "error",
            "budget score + indicator scores differ from the printed total score (总分 得分)",
            "sum of the printed scores (points)",
            "printed total score (points)",
        ),
        Check(
            "fund_lines_total_mismatch",
            "form",
            "error",
            "当年财政拨款 + 上年结转资金 + 其他资金 differ from 年度资金总额 (in one of the three amount columns)",
            "sum of the printed fund lines (万元)",
            "printed 年度资金总额 (万元)",
        ),
        Check(
            "score_above_weight",
            "indicator",
            "error",
            "an indicator's 得分 is above its 分值",
            "weight (points)",
            "score (points)",
        ),
        Check(
            "full_score_missed_target",
            "indicator",
            "warning",
            "full marks on a quantitative target the printed actual misses",
            "rule score (points)",
            "score (points)",
        ),
        Check(
            "below_weight_met_target",
            "indicator",
            "warning",
            "less than full marks on a quantitative target the printed actual meets",
            "weight (points)",
            "score (points)",
        ),
        Check(
            "actual_at_threshold",
            "indicator",
            "note",
            "the actual is exactly the bound of a ≥ or ≤ target",
            "target (bound)",
            "actual",
        ),
        Check(
            "target_far_exceeded",
            "indicator",
            "note",
            f"the actual beats the target by more than {FAR_EXCEEDED}x: target set low (a ceiling set high)",
            f"{FAR_EXCEEDED} (threshold of the ratio)",
            "actual / target (higher is better) or target / actual (lower is better); null if the target or actual is 0",
        ),
        Check(
            "percent_target_above_100",
            "indicator",
            "warning",
            'a percentage target above 100% ("≥400%")',
            "100 (%)",
            "target (%)",
        ),
        Check(
            "actual_repeats_target",
            "indicator",
            "note",
            "the actual cell is the target cell's text, verbatim",
            "target number",
            "actual number",
        ),
        Check(
            "cost_target_floor",
            "indicator",
            "warning",
            "a cost indicator (成本指标) whose target is printed as a floor (≥ or >), as if spending more were "
            "better: scored as a ceiling (costs are lower-is-better), the literal reading kept in the row "
            "(literal_direction, literal_met, literal_rule_score)",
            "target number",
            "actual number (in the target's unit)",
        ),
    )
}
SEVERITIES = ("error", "warning", "note")
# The checks that say a form's own printed numbers do not add up.
ARITHMETIC = ("execution_rate_mismatch", "weights_total_mismatch", "score_total_mismatch", "fund_lines_total_mismatch")

# parse_issues.severity: error = a form or file not loaded; warning; repaired = read after a repair.
ISSUE_SEVERITIES = ("error", "warning", "repaired")

# files.format: what a raw file holds, decided by its content (extract.formats.sniff).
FILE_FORMATS = ("text", "docx", "doc", "xlsx", "xls", "pdf", "html", "rtf", "encrypted", "zip", "ole")

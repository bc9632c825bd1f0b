"""Level labels repaired across twin forms (a post-parse step on one file's forms).

PDF exports print a merged level-1/level-2 cell (一级指标, 二级指标) once, centred on its
block, so the label can land one row off: on the row above or below the block, or not at
all, and form.py then carries the previous block's label into the rows (002 lines 165-168:
four 成本 rows labelled 可持续影响指标; line 201: 租用专线成本 labelled 满意度指标). A reader
sees it by comparing twin forms: forms of the same unit (主管部门) in the same file that list
the same indicator names.

repair(source_file, projects, indicators) changes level1/level2 of the indicator rows in
place (level1_raw / level2_raw keep what was printed on the row) and returns the issues:

1. Name cue and position: a row whose name carries a family's cue word (vocabulary.yaml
   level_name_cues: 成本 -> cost), outside that family, next to a row of the family (the
   label printed one row off), takes its neighbour's labels when the twins confirm it (most
   rows of the twin forms whose names carry the cue are in the family).
2. Twins: each name listed by several forms of the unit gets the category the forms give it
   by vote (a label printed on the row itself 1.5 votes, a label carried down from above 1;
   a tie: none). A row elsewhere takes that category when the row position allows it: in
   the twin forms' order of blocks it lies between the categories of the rows around it (a
   run of such rows is judged together, with any rows inside it the twins do not place). 002 line 419: 保障城市运行指挥中心系统的正常运转, carried as cost from
   line 418, is social benefit in the twins and the next row starts the social-benefit block.
3. Whatever still disagrees with a twin form afterwards is a warning naming both forms.

Each repair is a "repaired" issue naming the twin forms that confirmed it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from functools import lru_cache

from selfeval.schema.issues import Issue
from selfeval.vocab.labels import VOCAB, norm_label
from selfeval.vocab.value_sets import COST_LEVEL2

_CODE = re.compile(r"^\d+-")
# family -> the level-2 codes in it
FAMILIES = {"cost": frozenset(COST_LEVEL2)}
CUES = {family: tuple(norm_label(w) for w in words) for family, words in VOCAB.get("level_name_cues", {}).items()}

Category = tuple  # (level1, level2)


def _unit(project: dict) -> str | None:
    for column in ("department", "implementing_unit"):
        value = project.get(column)
        if value:
            return _CODE.sub("", norm_label(value)) or None
    return None


def _key(name) -> str:
    return norm_label(name) if isinstance(name, str) else ""  # norm_label is cached


def _category(row: dict) -> Category:
    return (row.get("level1"), row.get("level2"))


def _label(category: Category) -> str:
    return "/".join(str(c) for c in category)


def _form_ref(form_id: str) -> str:
    return "#" + form_id.rsplit("#", 1)[-1]


@lru_cache(maxsize=4096)
def _family(category: Category) -> str | None:
    return next((f for f, codes in FAMILIES.items() if category[1] in codes), None)


@lru_cache(maxsize=4096)
def _kind(category: Category):
    """What twins compare: the category, or its family (output/cost under the 2020 template and
    cost/economic_cost under the 2021 one are both cost: a template difference, not a label off)."""
    return _family(category) or category


def _same(a: Category, b: Category) -> bool:
    return _kind(a) == _kind(b)


@lru_cache(maxsize=1 << 16)
def _cue_family(name: str) -> str | None:
    return next((f for f, words in CUES.items() if any(w and w in name for w in words)), None)


def repair(source_file: str, projects: list[dict], indicators: list[dict]) -> list[Issue]:
    """Repair level labels across the twin forms of one file (see the module's doc)."""
    unit_of = {p["form_id"]: _unit(p) for p in projects}
    forms: dict[str, list[dict]] = defaultdict(list)
    for row in indicators:
        if unit_of.get(row["form_id"]):
            forms[row["form_id"]].append(row)
    by_unit: dict[str, list[str]] = defaultdict(list)
    for form_id in forms:
        unit = unit_of[form_id]
        if unit is not None:
            by_unit[unit].append(form_id)
    issues: list[Issue] = []
    for form_ids in by_unit.values():
        if len(form_ids) < 2:
            continue
        group = {f: sorted(forms[f], key=lambda r: r["indicator_order"]) for f in form_ids}
        if not _suspect(group):
            continue
        issues += _by_name_cue(source_file, group)
        issues += _by_twins(source_file, group)
        issues += _disagreements(source_file, group)
    return issues


def _suspect(group: dict[str, list[dict]]) -> bool:
    """Whether there is anything to repair or report: a name the forms place in different
    blocks, or a cue name outside its family. One pass; most units have neither."""
    kinds: dict[str, object] = {}
    for rows in group.values():
        for row in rows:
            key = _key(row.get("indicator_name"))
            if not key:
                continue
            category = _category(row)
            family = _cue_family(key)
            if family is not None and _family(category) != family:
                return True
            kind = _kind(category)
            if kinds.setdefault(key, kind) != kind:
                return True
    return False


def _set(row: dict, category: Category) -> None:
    row["level1"], row["level2"] = category


def _first(rows: list[tuple[str, dict]], form_id: str, n: int = 4) -> list[str]:
    """'#003 line 97' for the first n rows not of form_id (lists stay short in big files)."""
    out = []
    for f, r in rows:
        if f != form_id:
            out.append(f"{_form_ref(f)} line {r['line']}")
            if len(out) == n:
                break
    return out


def _by_name_cue(source_file: str, group: dict[str, list[dict]]) -> list[Issue]:
    # per family, the rows whose names carry its cue, and how many of them sit in the family,
    # counted once for the group (a form's own rows are subtracted, not recounted)
    cue_rows: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    inside_rows: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    own_total: dict[tuple[str, str], int] = Counter()
    own_inside: dict[tuple[str, str], int] = Counter()
    for form_id, rows in group.items():
        for row in rows:
            family = _cue_family(_key(row.get("indicator_name")))
            if family is None:
                continue
            cue_rows[family].append((form_id, row))
            own_total[family, form_id] += 1
            if _family(_category(row)) == family:
                inside_rows[family].append((form_id, row))
                own_inside[family, form_id] += 1
    changes = []
    for form_id, rows in group.items():
        for i, row in enumerate(rows):
            family = _cue_family(_key(row.get("indicator_name")))
            if family is None or _family(_category(row)) == family:
                continue
            neighbours = [(rows[j], "previous" if j < i else "next") for j in (i - 1, i + 1) if 0 <= j < len(rows)]
            near = [(n, where) for n, where in neighbours if _family(_category(n)) == family]
            twins = len(cue_rows[family]) - own_total[family, form_id]
            inside = len(inside_rows[family]) - own_inside[family, form_id]
            if not near or not twins or 2 * inside <= twins:
                continue
            neighbour, where = near[0]
            named = _first(inside_rows[family], form_id)
            confirm = ", ".join(named) + (f", ... {inside} rows in all" if inside > len(named) else "")
            changes.append(
                (
                    form_id,
                    row,
                    _category(neighbour),
                    f"a {family} name next to the {family} block (the {where} row, line "
                    f"{neighbour.get('line')}), its label printed one row off; the twin forms list their "
                    f"{family} names there ({confirm})",
                )
            )
    return _apply(source_file, changes)


def _apply(source_file: str, changes: list) -> list[Issue]:
    issues = []
    for form_id, row, target, why in changes:
        old = _category(row)
        _set(row, target)
        issues.append(
            Issue(
                source_file,
                form_id,
                row.get("line"),
                "level",
                row.get("indicator_name"),
                f"level labels {_label(old)} -> {_label(target)}: {why}",
                "repaired",
            )
        )
    return issues


# A label printed on the row itself counts for more than one carried down from a row above
# (the carried ones are what a one-row-off label corrupts), but two carried labels outvote it.
PRINTED_VOTE, CARRIED_VOTE = 1.5, 1.0


def _canonical(group: dict[str, list[dict]]) -> dict[str, tuple[Category, list[tuple[str, dict]]]]:
    """Per indicator name listed by at least two forms of the group: the category the forms
    give it by weighted vote (a tie: none), with the rows that give it."""
    votes: dict[str, dict[Category, float]] = defaultdict(lambda: defaultdict(float))
    rows: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for form_id, form_rows in group.items():
        for row in form_rows:
            key = _key(row.get("indicator_name"))
            if key:
                votes[key][_category(row)] += PRINTED_VOTE if row.get("level2_raw") else CARRIED_VOTE
                rows[key].append((form_id, row))
    out = {}
    for key, counts in votes.items():
        if len({f for f, _ in rows[key]}) < 2:
            continue
        ranked = sorted(counts.items(), key=lambda item: -item[1])[:2]  # stable: first seen wins a tie's order
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            best = ranked[0][0]
            out[key] = (best, [(f, r) for f, r in rows[key] if _category(r) == best])
    return out


def _order(rows: list[dict]) -> dict[Category, int]:
    """Each category's position in a form's sequence of blocks (first appearance)."""
    order: dict[Category, int] = {}
    for row in rows:
        order.setdefault(_category(row), len(order))
    return order


def _by_twins(source_file: str, group: dict[str, list[dict]]) -> list[Issue]:
    canonical = _canonical(group)
    # each form's order of blocks (before any repair of this pass), and per name the distinct
    # orders of the forms that give it its category: a few, however many forms the file has
    order_of = {f: tuple(_order(rows)) for f, rows in group.items()}
    orders: dict[tuple, dict[Category, int]] = {o: {c: i for i, c in enumerate(o)} for o in set(order_of.values())}
    orders_by_key = {key: {order_of[f] for f, _ in rows} for key, (_, rows) in canonical.items()}
    changes: list[tuple[str, dict, Category, str]] = []
    for form_id, rows in group.items():
        keys = [_key(r.get("indicator_name")) for r in rows]
        known = [canonical.get(k) for k in keys]
        # the category each row should have (None: the twins do not say)
        should = [k[0] if k else None for k in known]
        i = 0
        while i < len(rows):
            target = should[i]
            if target is None or _same(target, _category(rows[i])):
                i += 1
                continue
            j = i  # extend over rows that belong to target, or that the twins do not place
            while True:
                k = j + 1
                while k < len(rows) and should[k] is None:
                    k += 1
                if k < len(rows) and should[k] == target and not _same(_category(rows[k]), target):
                    j = k
                else:
                    break

            def around(k: int, rows: list = rows, should: list = should):
                return None if k < 0 or k >= len(rows) else (should[k] or _category(rows[k]))

            before, after = around(i - 1), around(j + 1)
            twin_orders = set().union(*(orders_by_key[keys[k]] for k in range(i, j + 1) if known[k]))
            verdicts = [_fits(orders[o], before, target, after) for o in twin_orders]
            if any(v is True for v in verdicts) and not any(v is False for v in verdicts):
                for k in range(i, j + 1):
                    if _same(_category(rows[k]), target):
                        continue
                    lines = _first(known[k][1], form_id) if known[k] else []  # type: ignore[index]
                    total = len(known[k][1]) if known[k] else 0  # type: ignore[index]
                    listed = ", ".join(lines) + (f", ... {total} rows in all" if total > len(lines) else "")
                    why = (
                        f"the twin forms list this indicator there ({listed})"
                        if lines
                        else "the twin forms do not agree on this indicator, the rows around it are in that block"
                    )
                    changes.append(
                        (
                            form_id,
                            rows[k],
                            target,
                            f"{why}; the row lies between the {_label(before) if before else 'start'} and "
                            f"{_label(after) if after else 'end'} blocks (label printed off its row)",
                        )
                    )
            i = j + 1
    return _apply(source_file, changes)


def _fits(order: dict[Category, int], before, target, after) -> bool | None:
    """Whether target lies between before and after in a twin form's order of blocks: True,
    False, or None when the twin lacks one of the three blocks (it cannot tell)."""
    needed = [c for c in (before, target, after) if c is not None]
    if any(c not in order for c in needed):
        return None
    positions = [order[c] for c in needed]
    return positions == sorted(positions)


def _disagreements(source_file: str, group: dict[str, list[dict]]) -> list[Issue]:
    """One warning per row whose category still differs from the one the twin forms give its
    name (by the same vote; a tie: the first form's), naming the forms it disagrees with."""
    canonical = _canonical(group)
    by_name: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for form_id, rows in group.items():
        for row in rows:
            key = _key(row.get("indicator_name"))
            if key:
                by_name[key].append((form_id, row))
    issues = []
    for key, listed in by_name.items():
        if len({_kind(_category(r)) for _, r in listed}) < 2:
            continue
        usual = canonical[key][0] if key in canonical else _category(listed[0][1])
        others = [(f, r) for f, r in listed if _same(_category(r), usual)]
        for form_id, row in listed:
            if _same(_category(row), usual):
                continue
            named = ", ".join(_first(others, form_id))
            issues.append(
                Issue(
                    source_file,
                    form_id,
                    row.get("line"),
                    "level",
                    row.get("indicator_name"),
                    f"level labels {_label(_category(row))} disagree with twin form(s) {named} "
                    f"({_label(usual)}); not resolved from the row position",
                    "warning",
                )
            )
    return issues

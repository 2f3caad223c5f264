"""
Checking the stored snapshot against the arithmetic computed afresh, the way the pages
computed it before there was a snapshot: `ItemQuerySet.with_progress()`, one view at a time,
straight from the database (`manage.py verify_snapshots`).

The two share the arithmetic (livelihood/progress/) but not the reading of its inputs: the
snapshot reads a plan once and filters in Python (livelihood/snapshots/build.py), the pages'
querysets filter in SQL. A difference means the snapshot is stale (a write path that did not
write it) or the two readings disagree; either is a defect.
"""

import dataclasses
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from livelihood.progress import arithmetic as progress
from livelihood.progress.querysets import approved_q, model
from livelihood.snapshots.build import PlanInputs, encode_item, encode_rollup, views
from livelihood.snapshots.models import ItemSnapshot, RollupSnapshot, SnapshotBuild

Scope = RollupSnapshot.Scope


def fresh(plan):
    """{(kind, view, month, scope or item id, key): body} computed afresh through
    `with_progress()`, for every view the snapshot stores."""
    inputs = PlanInputs(plan)  # which views exist; the numbers come from the querysets
    expected = {}
    for view, month, as_of, published_by, today in views(inputs):
        items = list(
            model("Item")
            .objects.filter(plan=plan)
            .with_progress(as_of, published_by=published_by, today=today)
            .order_by("domain__number", "order", "code")
        )
        groups = defaultdict(list)
        for item in items:
            snapshot = dataclasses.replace(item.snapshot, overdue=False)
            values = {
                i.pk: (i._latest_value, i._latest_month)
                for i in item.indicators.all()
                if i._latest_month is not None
            }
            expected[("item", view, month, item.pk)] = encode_item(snapshot, values)
            pair = (snapshot, item.weight)
            groups[(Scope.PLAN, plan.pk)].append(pair)
            groups[(Scope.DOMAIN, item.domain_id)].append(pair)
            groups[(Scope.UNIT, item.lead_unit_id)].append(pair)
        streets = (
            model("Figure")
            .objects.filter(
                approved_q("report__", as_of, published_by),
                report__item__plan=plan,
                street__isnull=False,
            )
            .order_by()
            .values_list("street_id", "report__item_id")
            .distinct()
        )
        members = defaultdict(set)
        for street_id, item_id in streets:
            members[street_id].add(item_id)
        for street_id, item_ids in members.items():
            groups[(Scope.STREET, street_id)] = [
                (dataclasses.replace(item.snapshot, overdue=False), item.weight)
                for item in items
                if item.pk in item_ids
            ]
        for (scope, key), pairs in groups.items():
            expected[("rollup", view, month, scope, key)] = encode_rollup(
                progress.rollup(pairs), as_of
            )
    return expected


def stored(plan):
    found = {}
    for item_id, view, month, body in ItemSnapshot.objects.filter(plan=plan).values_list(
        "item_id", "view", "month", "body"
    ):
        found[("item", view, month, item_id)] = body
    for view, month, scope, key, body in RollupSnapshot.objects.filter(plan=plan).values_list(
        "view", "month", "scope", "key", "body"
    ):
        found[("rollup", view, month, scope, key)] = body
    return found


def differences(plan) -> list[str]:
    """Each difference between the plan's stored snapshot and the arithmetic afresh, in
    Chinese, one line each; [] when they agree."""
    if not SnapshotBuild.objects.filter(plan=plan).exists():
        return [f"{plan.year} 年计划：尚未生成进度快照。"]
    want, have = fresh(plan), stored(plan)
    lines = []
    for key in sorted(want.keys() | have.keys(), key=repr):
        if _numbers(want.get(key)) == _numbers(have.get(key)):
            continue
        what = _label(key)
        if key not in have:
            lines.append(f"{plan.year} 年计划 {what}：快照中缺少，应为 {want[key]}")
        elif key not in want:
            lines.append(f"{plan.year} 年计划 {what}：快照中多出 {have[key]}")
        else:
            changed = sorted(
                name
                for name in want[key].keys() | have[key].keys()
                if _numbers(want[key].get(name)) != _numbers(have[key].get(name))
            )
            detail = "；".join(
                f"{name} 快照为 {have[key].get(name)!r}，应为 {want[key].get(name)!r}"
                for name in changed
            )
            lines.append(f"{plan.year} 年计划 {what}：{detail}")
    return lines


def _numbers(value):
    """The body with its numbers as numbers: SQLite hands a subquery's decimal back as 731
    where the column reads 731.0000, the same figure (displays drop trailing zeros)."""
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


def _label(key):
    kind, view, month = key[:3]
    when = f"{'截至' if view == 'as_of' else '月末公布'} {month:%Y-%m}"
    if kind == "item":
        return f"事项 #{key[3]}（{when}）"
    return f"{key[3]} #{key[4]} 汇总（{when}）"

"""
Public pages. Residents see approved figures only: every figure here comes through the stored
progress snapshot (livelihood/snapshots/read.py, which computes it afresh through
`with_progress()` while none is written) or an approved-only queryset, and every page runs a
fixed number of queries whatever the amount of data (tests/public/test_views.py,
tests/devdata/test_scale.py).
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Prefetch, Q, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.timezone import template_localtime

from livelihood.evaluation import scoring
from livelihood.evaluation.models import EvaluationRound
from livelihood.plan.models import Domain, Indicator, Item, LeadUnit, Plan, Street
from livelihood.progress import arithmetic as progress
from livelihood.progress import method
from livelihood.progress.querysets import approved_q
from livelihood.progress.selectors import (
    Submissions,
    month_end_moment,
    plan_months,
)
from livelihood.public import charts, links, pages
from livelihood.public.forms import SearchForm
from livelihood.reporting.models import Figure, MonthlyReport
from livelihood.snapshots import read as snapshots
from livelihood.snapshots.models import RollupSnapshot
from livelihood.templatetags.portal import status_badge
from livelihood.voice import satisfaction
from livelihood.voice import services as voice
from livelihood.voice.models import Feedback

Scope = RollupSnapshot.Scope


# ------------------------------------------------------------------------------
# Shared
# ------------------------------------------------------------------------------
def _plan(year=None):
    """A published plan: the current one (the latest year published) when `year` is None.
    A draft plan is "not found" on every public page."""
    plans = Plan.objects.published()
    if year is None:
        plan = plans.first()
        if plan is None:
            raise Http404("尚未录入年度计划")
        return plan
    return get_object_or_404(plans, year=year)


def _in_order(row):
    """LeadUnit's and Street's ordering (Meta.ordering: order, code)."""
    return row.order, row.code


def _item_rows(items):
    """What includes/item_table.html shows of each item, read once here: a template lookup
    per indicator and a tag per row cost more than the rest of a fifty-row table."""
    rows = []
    for item in items:
        snapshot = item.snapshot
        indicators = list(item.indicators.all())
        rows.append(
            {
                "url": links.item_url(item),
                "code": item.code,
                "title": item.title,
                "targets": [i.target_display for i in indicators],
                "latest": [i.latest_plain_display for i in indicators if i.measured],
                "milestones_done": snapshot.milestones_done,
                "milestones_total": snapshot.milestones_total,
                "progress": snapshot.progress_display,
                "status": status_badge(snapshot.status, snapshot.overdue),
                "unit_url": links.url(
                    "livelihood:unit-detail", item.plan.year, item.lead_unit.code
                ),
                "unit": item.lead_unit.name,
            }
        )
    return rows


# ------------------------------------------------------------------------------
# Home, domain, about
# ------------------------------------------------------------------------------
def home(request, year=None):
    plans = Plan.objects.published()
    plan = plans.first() if year is None else get_object_or_404(plans, year=year)
    if plan is None:
        return render(request, "livelihood/empty.html")
    standing = snapshots.current(plan, indicators=False)
    items = standing.items
    by_domain = defaultdict(list)
    for item in items:
        by_domain[item.domain_id].append(item)
    domains = [
        {
            "domain": domain,
            "url": links.url("livelihood:domain-detail", plan.year, domain.number),
            "items": [
                {
                    "url": links.item_url(item),
                    "code": item.code,
                    "title": item.title,
                    "status": status_badge(item.status, item.overdue),
                    "progress": item.snapshot.progress_display,
                }
                for item in by_domain[domain.pk]
            ],
            "rollup": standing.rollup(by_domain[domain.pk], Scope.DOMAIN, domain.pk),
        }
        for domain in plan.domains.all()
    ]
    latest = [
        {
            "url": links.url("livelihood:item-detail", plan.year, code),
            "code": code,
            "title": title,
            "month": date_filter(month, "Y年n月"),
            "reviewed_at": reviewed_at
            and date_filter(template_localtime(reviewed_at), "Y年n月j日"),
        }
        for code, title, month, reviewed_at in MonthlyReport.objects.approved()
        .filter(item__plan=plan)
        .order_by("-reviewed_at", "-month", "item__code")
        .values_list("item__code", "item__title", "month", "reviewed_at")[:8]
    ]
    # The plan's lead units, from its items (each read with its lead unit).
    units = sorted({item.lead_unit_id: item.lead_unit for item in items}.values(), key=_in_order)
    overall = standing.rollup(items)
    this_month = timezone.localdate().replace(day=1)
    context = {
        "plan": plan,
        "publicity": pages.publicity_now(plan, this_month),
        "domains": domains,
        "overall": overall,
        "overall_counts": [(status_badge(status), n) for status, n in overall.status_counts],
        "loaded_count": len(items),
        "data_month": standing.data_month,
        "latest": latest,
        "units": [
            {"url": links.url("livelihood:unit-detail", plan.year, unit.code), "name": unit.name}
            for unit in units
        ],
        "streets": [
            {
                "url": links.url("livelihood:street-detail", plan.year, street.code),
                "name": street.name,
            }
            for street in Street.objects.all()
        ],
        # A past plan says so, and names the current one.
        "current_year": plan.year if year is None else plans.values_list("year", flat=True).first(),
        "rounds": pages.published_rounds(plan),
    }
    return render(request, "livelihood/home.html", context)


def domain_detail(request, year, number):
    domain = get_object_or_404(
        Domain.objects.select_related("plan"),
        plan__year=year,
        plan__published=True,
        number=number,
    )
    plan = domain.plan
    standing = snapshots.current(plan, domain=domain)
    context = {
        "plan": plan,
        "domain": domain,
        "items": standing.items,
        "item_rows": _item_rows(standing.items),
        "rollup": standing.rollup(standing.items, Scope.DOMAIN, domain.pk),
        "data_month": standing.data_month,
    }
    return render(request, "livelihood/domain_detail.html", context)


def about(request):
    plan = Plan.objects.published().first()
    context = {
        "plan": plan,
        "domains": list(plan.domains.all()) if plan else [],
        "loaded_count": plan.items.count() if plan else 0,
        "rounds": pages.published_rounds(plan) if plan else [],
        "method_rules": method.rules(),
    }
    return render(request, "livelihood/about.html", context)


# ------------------------------------------------------------------------------
# Item
# ------------------------------------------------------------------------------
def item_detail(request, year, code):
    plan = _plan(year)
    standing = snapshots.item(plan, code, items=Item.objects.prefetch_related("partner_units"))
    if standing is None:
        raise Http404("没有这项民生实事")
    item = standing.item
    indicators = list(item.indicators.all())
    milestones = list(item.milestones.all())
    reports = list(MonthlyReport.objects.approved().filter(item=item).order_by("month"))
    # The figures as plain rows, each with its street (a few hundred rows at 13 streets).
    figures = defaultdict(list)  # report id -> [(indicator id, street or None, value)]
    for report_id, indicator_id, street_id, value, order, street_code, name in (
        Figure.objects.filter(report__in=[r.pk for r in reports])
        .order_by()
        .values_list(
            "report_id",
            "indicator_id",
            "street_id",
            "value",
            "street__order",
            "street__code",
            "street__name",
        )
    ):
        street = (order, street_code, name) if street_id else None
        figures[report_id].append((indicator_id, street, value))
    totals = {}  # month -> {indicator id: value}
    by_street = {}  # street -> {indicator id: value}, latest month with streets
    street_month = None
    for report in reports:
        rows = figures[report.pk]
        totals[report.month] = {i: value for i, street, value in rows if street is None}
        if any(street is not None for _, street, _ in rows):
            street_month, by_street = report.month, defaultdict(dict)
            for indicator_id, street, value in rows:
                if street is not None:
                    by_street[street][indicator_id] = value
    trend = _trend(standing, indicators, milestones, reports, totals)
    chart = charts.progress_chart(
        [f"{row['month'].month}月" for row in trend],
        [row["progress"] for row in trend],
        [row["expected"] for row in trend],
    )
    context = {
        "plan": plan,
        "item": item,
        "indicators": indicators,
        "indicator_rows": [
            {
                "indicator": indicator,
                "progress_display": progress.format_percent(row.progress),
                "expected_display": progress.format_percent(row.expected),
            }
            for indicator, row in zip(indicators, item.snapshot.indicators, strict=False)
        ],
        "trend": trend,
        "chart": chart,
        # The chart's numbers as the SVG writes them (floatformat:1), worked out once each.
        "chart_right": chart and chart.width - 16,
        "chart_label_y": chart and chart.height - 12,
        "chart_grid": chart and [(floatformat(y, 1), label) for y, label in chart.gridlines],
        "chart_points": chart
        and [
            {
                "x": floatformat(point.x, 1),
                "y": floatformat(point.y, 1),
                "label": point.label,
                "shown": point.value is not None,
            }
            for point in chart.actual
        ],
        "street_month": street_month,
        "street_rows": [
            {
                "name": name,
                "url": links.url("livelihood:street-detail", plan.year, street_code),
                "cells": [progress.format_plain(values.get(i.pk), i.unit) for i in indicators],
            }
            # The streets' own order (Street.Meta.ordering).
            for (_, street_code, name), values in sorted(by_street.items())
        ],
        "changes": pages.changes(indicators, reports, totals),
        "latest_report": reports[-1] if reports else None,
        "milestones": milestones,
        "data_month": item._last_approved,
        "qr_svg": pages.qr_svg(request, links.item_url(item)),
        "satisfaction": satisfaction.item_score(item),
        **pages.item_feedback(item),
    }
    return render(request, "livelihood/item_detail.html", context)


def _trend(standing, indicators, milestones, reports, totals):
    """The item's progress and 序时进度 at the end of each reported month (its stored rows, or
    selectors.item_trend: snapshots.ItemStanding.trend), with the figures shown beside them."""
    return [
        {
            "month": report.month,
            "month_display": date_filter(report.month, "n月"),
            "progress": snapshot.progress,
            "expected": snapshot.expected,
            "progress_display": snapshot.progress_display,
            "expected_display": snapshot.expected_display,
            "status": snapshot.status,
            "cells": [
                progress.format_plain(totals[report.month].get(i.pk), i.unit) for i in indicators
            ],
        }
        for report, snapshot in zip(
            reports, standing.trend(indicators, milestones, reports, totals), strict=True
        )
    ]


# ------------------------------------------------------------------------------
# Lead units and streets
# ------------------------------------------------------------------------------
def unit_detail(request, year, code):
    plan = _plan(year)
    unit = get_object_or_404(LeadUnit, code=code)
    standing = snapshots.current(plan, lead_unit=unit)
    items = standing.items
    partner_items = [
        {"url": links.url("livelihood:item-detail", plan.year, code), "code": code, "title": title}
        for code, title in plan.items.filter(partner_units=unit).values_list("code", "title")
    ]
    submissions = Submissions(MonthlyReport.objects.filter(item__plan=plan, item__lead_unit=unit))
    due = progress.due_months(
        plan.first_month, plan.last_month, timezone.localdate(), settings.REPORT_DUE_DAY
    )
    per_item = [submissions.punctuality(i.pk, due) for i in items]
    punctual = sum(per_item, progress.NO_REPORTS_DUE)
    context = {
        "plan": plan,
        "unit": unit,
        "answers": voice.answer_counts(
            Feedback.objects.filter(item__plan=plan, item__lead_unit=unit)
        ),
        "answer_days": settings.FEEDBACK_ANSWER_WORKING_DAYS,
        "items": items,
        "item_rows": _item_rows(items),
        "rows": list(zip(items, per_item, strict=True)),
        "partner_items": partner_items,
        "rollup": standing.rollup(items, Scope.UNIT, unit.pk),
        "punctuality": punctual,
        "data_month": standing.data_month,
    }
    return render(request, "livelihood/unit_detail.html", context)


def street_detail(request, year, code):
    plan = _plan(year)
    street = get_object_or_404(Street, code=code)
    # The street's latest approved figure of each indicator: one row per indicator.
    latest = {
        indicator_id: (item_id, month, value)
        for indicator_id, item_id, month, value in Figure.objects.filter(
            approved_q("report__"), street=street, report__item__plan=plan
        )
        .annotate(
            _newest=Window(
                RowNumber(), partition_by=F("indicator_id"), order_by=F("report__month").desc()
            )
        )
        .filter(_newest=1)
        .order_by()
        .values_list("indicator_id", "report__item_id", "report__month", "value")
    }
    # The items' progress alone: the cells below are the street's figures, not the district's.
    standing = snapshots.current(plan, pk__in={i for i, _, _ in latest.values()}, indicators=False)
    months = {month: date_filter(month, "Y年n月") for _, month, _ in latest.values()}
    cells = defaultdict(list)  # item id -> "name：value（month）" of each indicator, in order
    for pk, item_id, name, unit in (
        Indicator.objects.filter(item__plan=plan)
        .order_by("number")
        .values_list("pk", "item_id", "name", "unit")
    ):
        if pk in latest:
            _, month, value = latest[pk]
            cells[item_id].append(
                f"{name}：{progress.format_plain(value, unit)}（{months[month]}）"
            )
    rows = [
        {
            "item": item,
            "url": links.item_url(item),
            "unit_url": links.url("livelihood:unit-detail", plan.year, item.lead_unit.code),
            "status": status_badge(item.status, item.overdue),
            "figures": cells[item.pk],
        }
        for item in standing.items
    ]
    context = {"plan": plan, "street": street, "rows": rows, "data_month": standing.data_month}
    return render(request, "livelihood/street_detail.html", context)


# ------------------------------------------------------------------------------
# Search and filter
# ------------------------------------------------------------------------------
def search(request, year):
    plan = _plan(year)
    form = SearchForm(request.GET or None, plan=plan)
    items, searched, month = [], False, None
    if form.is_valid():
        searched = any(form.cleaned_data.values())
        filters = Q()
        data = form.cleaned_data
        if data["q"]:
            for word in data["q"].split():
                filters &= (
                    Q(title__icontains=word)
                    | Q(code__iexact=word)
                    | Q(source_text__icontains=word)
                    | Q(indicators__name__icontains=word)
                    | Q(lead_unit__name__icontains=word)
                )
        if data["domain"]:
            filters &= Q(domain=data["domain"])
        if data["unit"]:
            filters &= Q(lead_unit=data["unit"])
        if data["street"]:
            filters &= Q(indicators__figures__street=data["street"]) & approved_q(
                "indicators__figures__report__"
            )
        ids = plan.items.filter(filters).values("pk")
        standing = snapshots.current(plan, pk__in=ids)
        items, month = standing.items, standing.data_month
        if data["status"]:
            wanted = data["status"]
            items = [
                i for i in items if i.status.value == wanted or (wanted == "overdue" and i.overdue)
            ]
    context = {
        "plan": plan,
        "form": form,
        "items": items,
        "item_rows": _item_rows(items),
        "searched": searched,
        "data_month": snapshots.plan_data_month(plan) if month is None else month,
    }
    return render(request, "livelihood/search.html", context)


# ------------------------------------------------------------------------------
# The plan as published at the end of a month
# ------------------------------------------------------------------------------
def month_index(request, year):
    plan = _plan(year)
    months = plan_months(plan)
    return render(
        request, "livelihood/month_index.html", {"plan": plan, "months": list(reversed(months))}
    )


def month_detail(request, year, month):
    plan = _plan(year)
    try:
        chosen = datetime.date(int(month[:4]), int(month[5:7]), 1)
    except ValueError:
        raise Http404("月份无效") from None
    months = plan_months(plan)
    if chosen not in months:
        raise Http404("该月份不在计划期内或尚未到来")
    published_by = month_end_moment(chosen)
    previous_month = progress.add_months(chosen, -1)
    standing = snapshots.published(plan, chosen, indicators=False)
    items = standing.items
    if previous_month in months:
        earlier = {
            item.pk: item
            for item in snapshots.published(plan, previous_month, indicators=False).items
        }
    else:
        earlier = {}
    rows, changed = [], 0
    for item in items:
        before = earlier.get(item.pk)
        # The 完成 column shows each item's progress uncapped: the change is the difference
        # of the two numbers shown, not of the capped values the roll-ups use.
        delta = None
        if before is not None:
            delta = progress.percent_change(
                item.snapshot.progress_uncapped, before.snapshot.progress_uncapped
            )
        status_changed = before is not None and before.status is not item.status
        changed += bool(status_changed or delta)
        rows.append(
            {
                "item": item,
                "url": links.item_url(item),
                "status": status_badge(item.status, item.overdue),
                "before": before,
                "delta": delta,
                "delta_display": None if not delta else pages.points(delta),
                "status_changed": status_changed,
            }
        )
    context = {
        "plan": plan,
        "month": chosen,
        "published_by": published_by,
        "previous_month": previous_month if previous_month in months else None,
        "next_month": progress.add_months(chosen, 1)
        if progress.add_months(chosen, 1) in months
        else None,
        "rows": rows,
        "overall": standing.rollup(items),
        "changed": changed,
        "data_month": standing.data_month,
    }
    return render(request, "livelihood/month_detail.html", context)


# ------------------------------------------------------------------------------
# Every year's plan
# ------------------------------------------------------------------------------
def plan_list(request):
    """The current plan and every past one with its final standing (the latest approved
    figures of each), in a fixed number of queries whatever the number of years."""
    plans = list(Plan.objects.published())
    standings = snapshots.plan_rollups(plans)
    rounds = defaultdict(list)
    for round_ in pages.rounds_of(plans):
        rounds[round_.plan_id].append(round_)
    rows = [
        {
            "plan": plan,
            "url": links.url("livelihood:plan-home", plan.year),
            "label": f"{plan.year}年全部事项",
            "statuses": [
                (status_badge(status), count)
                for status, count in standings[plan.pk][0].status_counts
            ],
            "rollup": standings[plan.pk][0],
            "loaded_count": standings[plan.pk][2],
            "data_month": standings[plan.pk][1],
            "rounds": rounds[plan.pk],
        }
        for plan in plans
    ]
    return render(
        request,
        "livelihood/plan_list.html",
        {"rows": rows, "plan": plans[0] if plans else None, "current": plans[0] if plans else None},
    )


# ------------------------------------------------------------------------------
# Evaluation results, once published
# ------------------------------------------------------------------------------
def evaluation_index(request, year):
    plan = _plan(year)
    return render(
        request,
        "livelihood/evaluation_index.html",
        {"plan": plan, "rounds": pages.published_rounds(plan)},
    )


def evaluation_detail(request, year, kind):
    """A published round: the ranking and each criterion's share. No rater, no comment:
    the results are read from the frozen scores, which hold neither."""
    plan = _plan(year)
    round_ = get_object_or_404(
        EvaluationRound.objects.select_related("plan"),
        plan=plan,
        kind=kind,
        state=EvaluationRound.State.PUBLISHED,
    )
    table = scoring.results(round_)
    total_weight = sum((c.weight for c in table.criteria), Decimal(0))
    criteria = [
        {
            "criterion": c,
            "share": progress.format_percent(c.weight / total_weight if total_weight else None),
        }
        for c in table.criteria
    ]
    context = {"plan": plan, "round": round_, "table": table, "criteria": criteria}
    return render(request, "livelihood/evaluation_detail.html", context)


# ------------------------------------------------------------------------------
# Publicity: the calendar of monthly themes
# ------------------------------------------------------------------------------
def publicity(request, year):
    plan = _plan(year)
    featured = Item.objects.select_related("plan").order_by("domain__number", "order", "code")
    months = list(
        plan.publicity_months.prefetch_related(Prefetch("items", queryset=featured)).order_by(
            "month"
        )
    )
    by_number = {m.month.month: m for m in months}
    today = timezone.localdate()
    calendar = [
        {
            "number": number,
            "entry": by_number.get(number),
            "current": today.year == plan.year and today.month == number,
        }
        for number in range(1, 13)
    ]
    context = {
        "plan": plan,
        "calendar": calendar,
        "campaigns": [m for m in months if m.campaign],
        "has_entries": bool(months),
    }
    return render(request, "livelihood/publicity.html", context)

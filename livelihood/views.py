"""
Public pages. Residents see approved figures only: every figure on these pages comes through
`with_progress()` / `with_latest()` or an `approved()` queryset.
"""

from collections import defaultdict

from django.db.models import Max
from django.http import HttpResponseServerError
from django.shortcuts import get_object_or_404, render
from django.template import loader

from . import progress
from .models import Figure, Item, MonthlyReport, Plan


def _plan(year=None):
    plans = Plan.objects.all()
    if year is None:
        return plans.first()
    return get_object_or_404(plans, year=year)


def data_month(plan):
    """The latest month with an approved report: what "数据截至" names."""
    return MonthlyReport.objects.approved().filter(item__plan=plan).aggregate(m=Max("month"))["m"]


def home(request, year=None):
    plan = _plan(year)
    if plan is None:
        return render(request, "livelihood/empty.html", status=200)
    month = data_month(plan)
    items = list(plan.items.with_progress(month).order_by("domain__number", "order", "code"))
    by_domain = defaultdict(list)
    for item in items:
        by_domain[item.domain_id].append(item)
    domains = [
        {
            "domain": domain,
            "items": by_domain.get(domain.pk, []),
            "rollup": progress.rollup((i.snapshot, i.weight) for i in by_domain.get(domain.pk, [])),
        }
        for domain in plan.domains.all()
    ]
    latest = (
        MonthlyReport.objects.approved()
        .filter(item__plan=plan)
        .select_related("item__plan")
        .order_by("-reviewed_at", "-month", "item__code")[:8]
    )
    context = {
        "plan": plan,
        "domains": domains,
        "overall": progress.rollup((i.snapshot, i.weight) for i in items),
        "loaded_count": len(items),
        "data_month": month,
        "latest": latest,
    }
    return render(request, "livelihood/home.html", context)


def item_detail(request, year, code):
    item = get_object_or_404(
        Item.objects.with_progress().prefetch_related("partner_units"), plan__year=year, code=code
    )
    indicators = list(item.indicators.all())
    figures = (
        Figure.objects.filter(report__item=item, report__state=MonthlyReport.State.APPROVED)
        .select_related("report", "street")
        .order_by("report__month", "street__order")
    )
    totals = defaultdict(dict)
    by_street = defaultdict(lambda: defaultdict(dict))
    for figure in figures:
        if figure.street is None:
            totals[figure.report.month][figure.indicator_id] = figure.value
        else:
            by_street[figure.report.month][figure.street][figure.indicator_id] = figure.value
    monthly = [
        {
            "month": month,
            "cells": [progress.format_plain(values.get(i.pk), i.unit) for i in indicators],
        }
        for month, values in sorted(totals.items())
    ]
    street_month = max(by_street, default=None)
    street_rows = [
        {
            "street": street,
            "cells": [progress.format_plain(values.get(i.pk), i.unit) for i in indicators],
        }
        for street, values in (by_street[street_month].items() if street_month else [])
    ]
    context = {
        "plan": item.plan,
        "item": item,
        "indicator_rows": [
            {
                "indicator": indicator,
                "progress_display": progress.format_percent(row.progress),
                "expected_display": progress.format_percent(row.expected),
            }
            for indicator, row in zip(indicators, item.snapshot.indicators, strict=False)
        ],
        "indicators": indicators,
        "monthly": monthly,
        "street_month": street_month,
        "street_rows": street_rows,
        "latest_report": MonthlyReport.objects.approved().filter(item=item).first(),
        "milestones": list(item.milestones.all()),
        "data_month": item._last_approved,
    }
    return render(request, "livelihood/item_detail.html", context)


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


def server_error(request):
    """Rendered without context processors: the database may be what failed."""
    return HttpResponseServerError(loader.get_template("500.html").render())

"""
What the public pages assemble beside the progress itself: the evaluation rounds published,
this month's publicity theme, the item page's latest messages, the log of what each approval
changed, the QR code, a change in percentage points. Each reads only what is published.
"""

import functools

import segno
from django.conf import settings
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.timezone import template_localtime

from livelihood.evaluation.models import EvaluationRound
from livelihood.progress import arithmetic as progress
from livelihood.voice import services as voice
from livelihood.voice.models import Feedback, PublicityMonth


def published_rounds(plan):
    return list(
        EvaluationRound.objects.filter(plan=plan, state=EvaluationRound.State.PUBLISHED)
        .select_related("plan")
        .order_by("cutoff_month")
    )


def publicity_now(plan, month):
    """This month's publicity theme of the plan with the items it features, or None: one
    query (a row per featured item) whether or not there is one."""
    rows = list(
        PublicityMonth.objects.filter(plan=plan, month=month)
        .values("month", "theme", "summary", "campaign", "items__code", "items__title")
        .order_by("items__domain__number", "items__order", "items__code")
    )
    if not rows:
        return None
    featured = [
        {
            "code": row["items__code"],
            "title": row["items__title"],
            "url": reverse("livelihood:item-detail", args=[plan.year, row["items__code"]]),
        }
        for row in rows
        if row["items__code"]
    ]
    return {"theme": rows[0], "items": featured}


ITEM_PAGE_FEEDBACK = 5


def item_feedback(item):
    """The latest published messages with their answers, and how many there are (two
    queries). Only published messages: pending and rejected ones, contacts and names the
    resident did not ask to show never reach a public page."""
    published = Feedback.objects.filter(voice.published_q(), item=item)
    return {
        "feedback": list(
            published.only(*voice.PUBLIC_FEEDBACK_FIELDS).order_by("-published_at", "-pk")[
                :ITEM_PAGE_FEEDBACK
            ]
        ),
        "feedback_count": published.count(),
        "answer_days": settings.FEEDBACK_ANSWER_WORKING_DAYS,
    }


def changes(indicators, reports, totals):
    """What each approval published, newest first: the month, when, and each figure's change
    against the month before."""
    log, previous = [], {}
    for report in reports:
        values = totals.get(report.month, {})
        entries = []
        for indicator in indicators:
            if indicator.pk not in values:
                continue
            value, before = values[indicator.pk], previous.get(indicator.pk)
            change = None if before is None else value - before
            entries.append(
                {
                    "indicator": indicator,
                    "value": progress.format_plain(value, indicator.unit),
                    "change": None
                    if change is None
                    else ("+" if change >= 0 else "")
                    + progress.format_plain(change, indicator.unit),
                }
            )
            previous[indicator.pk] = value
        log.append(
            {
                "report": report,
                "entries": entries,
                # As the page writes them, worked out here once rather than per cell.
                "reviewed": report.reviewed_at
                and date_filter(template_localtime(report.reviewed_at), "Y年n月j日"),
                "month": date_filter(report.month, "Y年n月"),
                "text": "；".join(
                    f"{entry['indicator'].name} {entry['value']}"
                    + (f"（较上次 {entry['change']}）" if entry["change"] else "")
                    for entry in entries
                ),
            }
        )
    return list(reversed(log))


def qr_svg(request, path):
    """A QR code that opens the page on a phone, as inline SVG (no image request)."""
    base = settings.PUBLIC_BASE_URL or request.build_absolute_uri("/")
    return _qr_svg(base.rstrip("/") + path)


@functools.lru_cache(maxsize=2048)
def _qr_svg(url):
    """The code of one address: drawing it costs a few milliseconds, and it never changes."""
    return segno.make(url, error="m").svg_inline(
        scale=3, dark="#1b1b1b", omitsize=True, svgclass="qr", title=f"在手机上打开：{url}"
    )


def points(points):
    return f"{'+' if points > 0 else ''}{progress.format_number(points)} 个百分点"


def rounds_of(plans):
    return (
        EvaluationRound.objects.filter(plan__in=plans, state=EvaluationRound.State.PUBLISHED)
        .select_related("plan")
        .order_by("cutoff_month")
    )

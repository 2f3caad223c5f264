"""
Residents' voice on the public site: a message on an item, its published messages with their
answers, and a satisfaction vote (livelihood/voice/services.py, satisfaction.py). Every
submission is counted per client address and per item (livelihood/voice/ratelimit.py); one
over the limit gets the form again with a 429.
"""

import logging
import re

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from livelihood.plan.models import Item
from livelihood.voice import ratelimit, satisfaction
from livelihood.voice import services as voice
from livelihood.voice.forms import FeedbackForm, RatingForm
from livelihood.voice.models import Feedback

logger = logging.getLogger(__name__)


# The forms live on their own small pages: they carry a CSRF token and may set a cookie, so
# they are never cached, while the item page that links to them stays cached for everyone.
def _item(year, code):
    return get_object_or_404(
        Item.objects.select_related("plan", "lead_unit", "domain"),
        plan__year=year,
        plan__published=True,  # a draft plan's items take neither feedback nor votes
        code=code,
    )


def _refused(request, template, context, message):
    """A submission refused (too many, queue full): the form again, with what the resident
    wrote, and why it was not taken, in Chinese (HTTP 429)."""
    response = render(request, template, context | {"refusal": message}, status=429)
    response["Retry-After"] = str(ratelimit.retry_after(request))
    return response


def _within_limits(request, item, kind: str) -> bool:
    """Count this submission per client address and per item; False when either is over."""
    limits = {
        "feedback": (settings.FEEDBACK_LIMIT_PER_ADDRESS, settings.FEEDBACK_LIMIT_PER_ITEM),
        "vote": (settings.VOTE_LIMIT_PER_ADDRESS, settings.VOTE_LIMIT_PER_ITEM),
    }[kind]
    address = ratelimit.client_address(request)
    if not ratelimit.hit(request, f"{kind}-address", limits[0]):
        logger.warning("提交过于频繁（%s，地址 %s），已拒绝。", kind, address)
        return False
    if not ratelimit.hit(request, f"{kind}-item", limits[1], key=lambda *_: str(item.pk)):
        logger.warning("事项 %s 的%s提交过于频繁，已拒绝。", item.code, kind)
        return False
    return True


TOO_MANY_FEEDBACK = "提交过于频繁，请稍后再试。如有急事，请拨打页面底部的咨询电话。"
TOO_MANY_VOTES = "评价提交过于频繁，请稍后再试。"


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def item_feedback(request, year, code):
    item = _item(year, code)
    form = FeedbackForm(request.POST or None)
    context = {
        "plan": item.plan,
        "item": item,
        "form": form,
        "answer_days": settings.FEEDBACK_ANSWER_WORKING_DAYS,
    }
    template = "livelihood/feedback_form.html"
    if request.method == "POST" and (form.is_bot or form.is_valid()):
        if not _within_limits(request, item, "feedback"):
            return _refused(request, template, context, TOO_MANY_FEEDBACK)
        if form.is_bot:
            logger.info("留言表单的隐藏字段被填写，按自动提交处理，未保存：%s", item.code)
        else:
            data = form.cleaned_data
            try:
                voice.feedback_submit(
                    item=item,
                    message=data["message"],
                    name=data["name"],
                    show_name=data["show_name"],
                    contact=data["contact"],
                )
            except voice.QueueFull as refusal:
                return _refused(request, template, context, refusal.message)
        return redirect("livelihood:item-feedback-thanks", item.plan.year, item.code)
    return render(request, template, context)


def item_feedback_thanks(request, year, code):
    item = _item(year, code)
    context = {
        "plan": item.plan,
        "item": item,
        "answer_days": settings.FEEDBACK_ANSWER_WORKING_DAYS,
    }
    return render(request, "livelihood/feedback_thanks.html", context)


def item_messages(request, year, code):
    """Every published message of an item with its answer, newest first, 20 a page."""
    item = _item(year, code)
    published = (
        Feedback.objects.filter(voice.published_q(), item=item)
        .only(*voice.PUBLIC_FEEDBACK_FIELDS)
        .order_by("-published_at", "-pk")
    )
    page = Paginator(published, 20).get_page(request.GET.get("page"))
    context = {
        "plan": item.plan,
        "item": item,
        "page": page,
        "answer_days": settings.FEEDBACK_ANSWER_WORKING_DAYS,
    }
    return render(request, "livelihood/item_messages.html", context)


TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")


def _voter_token(request) -> str | None:
    token = request.COOKIES.get(settings.VOTER_COOKIE_NAME, "")
    return token if TOKEN_PATTERN.fullmatch(token) else None


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def item_rate(request, year, code):
    """Rate an item once a month per browser: a random token in a cookie, its keyed hash in
    the vote (livelihood/voice/satisfaction.py)."""
    item = _item(year, code)
    token = _voter_token(request)
    form = RatingForm(request.POST or None)
    status = 200
    voted = satisfaction.has_voted(item, token)
    if request.method == "POST" and (form.is_bot or form.is_valid()):
        if not _within_limits(request, item, "vote"):
            context = {"plan": item.plan, "item": item, "form": form, "voted": voted}
            return _refused(request, "livelihood/rate_form.html", context, TOO_MANY_VOTES)
        if form.is_bot:
            logger.info("评价表单的隐藏字段被填写，按自动提交处理，未保存：%s", item.code)
            return redirect(reverse("livelihood:item-detail", args=[year, code]) + "#satisfaction")
        token = token or satisfaction.new_token()
        try:
            satisfaction.vote_cast(
                item=item,
                token=token,
                rating=form.cleaned_data["rating"],
                aware=form.cleaned_data["aware"],
            )
        except satisfaction.AlreadyVoted:
            voted, status = True, 409
        else:
            response = redirect(
                reverse("livelihood:item-rate-thanks", args=[item.plan.year, item.code])
            )
            response.set_cookie(
                settings.VOTER_COOKIE_NAME,
                token,
                max_age=satisfaction.VOTER_COOKIE_AGE,
                httponly=True,
                samesite="Lax",
                # Always Secure in production: a __Host- cookie without it is dropped.
                secure=settings.SESSION_COOKIE_SECURE or request.is_secure(),
            )
            return response
    context = {"plan": item.plan, "item": item, "form": form, "voted": voted}
    return render(request, "livelihood/rate_form.html", context, status=status)


def item_rate_thanks(request, year, code):
    item = _item(year, code)
    return render(request, "livelihood/rate_thanks.html", {"plan": item.plan, "item": item})

"""Residents' feedback: from the form on its own page, through moderation, to the lead unit's
answer under the message; deadlines in working days; abuse limits; and what never shows."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from livelihood.models import (
    Feedback,
    SatisfactionVote,
)
from livelihood.voice import services as voice
from tests.builders import login

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


@pytest.fixture
def clerk(make_staff, unit):
    return make_staff("clerk", unit)


@pytest.fixture
def other_clerk(make_staff, other_unit):
    return make_staff("other-clerk", other_unit)


def form_url(item):
    return reverse("livelihood:item-feedback", args=[item.plan.year, item.code])


def send(client, item, message="希望培训安排在周末，方便上班族参加。", **fields):
    """Post the form; upper-case keywords (REMOTE_ADDR, HTTP_…) go to the request, not the form."""
    extra = {k: fields.pop(k) for k in list(fields) if k.isupper()}
    return client.post(form_url(item), {"message": message, **fields}, **extra)


def at(year, month, day, hour=10):
    return datetime.datetime(year, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def clock(monkeypatch):
    """clock(moment): timezone.now() (and so localdate()) answers `moment` from now on."""

    def set_to(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_to


def published(item, office, message="路灯不亮，请尽快维修。", **fields):
    feedback = voice.feedback_submit(item=item, message=message, **fields)
    return voice.feedback_publish(feedback=feedback, user=office)


# ------------------------------------------------------------------------------
# Working days
# ------------------------------------------------------------------------------
def test_working_days_skip_the_weekend():
    friday = datetime.date(2024, 6, 14)
    assert voice.add_working_days(friday, 1) == datetime.date(2024, 6, 17)  # Monday
    assert voice.add_working_days(friday, 5) == datetime.date(2024, 6, 21)  # next Friday
    saturday = datetime.date(2024, 6, 15)
    assert voice.add_working_days(saturday, 5) == datetime.date(2024, 6, 21)
    assert voice.add_working_days(datetime.date(2024, 6, 13), 2) == datetime.date(2024, 6, 17)


def test_official_holidays_are_days_off_and_make_up_days_are_working_days(settings):
    """National Day 2024: 1–7 October off, Sunday 29 September and Saturday 12 October worked
    in lieu (调休上班), as the State Council set it; PUBLIC_HOLIDAYS plays no part in a year
    chinese-calendar knows."""
    settings.PUBLIC_HOLIDAYS = frozenset()
    assert voice.is_working_day(datetime.date(2024, 9, 29))  # Sunday
    assert voice.is_working_day(datetime.date(2024, 10, 12))  # Saturday
    assert not voice.is_working_day(datetime.date(2024, 10, 1))  # Tuesday
    assert not voice.is_working_day(datetime.date(2024, 10, 7))  # Monday
    assert not voice.is_working_day(datetime.date(2024, 6, 10))  # 端午节, a Monday
    # Published on Friday 27 September: the first working day after it is Sunday the 29th.
    assert voice.add_working_days(datetime.date(2024, 9, 27), 1) == datetime.date(2024, 9, 29)
    # Published on Monday 30 September: five working days run 8–12 October, the Saturday
    # included. Weekdays less the week off made it Monday the 14th.
    assert voice.answer_due(datetime.date(2024, 9, 30)) == datetime.date(2024, 10, 12)
    settings.PUBLIC_HOLIDAYS = frozenset({datetime.date(2024, 10, d) for d in range(1, 8)})
    assert voice.answer_due(datetime.date(2024, 9, 30)) == datetime.date(2024, 10, 12)


def test_a_message_published_before_a_make_up_saturday_is_due_on_it(item, office, clock):
    clock(at(2024, 9, 30))  # Monday, before the National Day week
    feedback = published(item, office)
    assert feedback.due_on == datetime.date(2024, 10, 12)  # Saturday, worked in lieu
    assert feedback.is_overdue(datetime.date(2024, 10, 14))


def test_a_year_without_calendar_data_falls_back_to_weekdays_less_public_holidays(
    settings, monkeypatch, caplog
):
    """chinese-calendar has no data before 2004 (nor for a year newer than its release): then
    Monday to Friday less PUBLIC_HOLIDAYS, and a warning, once a year per process."""
    monkeypatch.setattr(voice, "_YEARS_WITHOUT_CALENDAR", set())
    settings.PUBLIC_HOLIDAYS = frozenset({datetime.date(2003, 10, d) for d in range(1, 8)})
    # Published on Tuesday 30 September 2003: five working days run 8–14 October.
    assert voice.answer_due(datetime.date(2003, 9, 30)) == datetime.date(2003, 10, 14)
    assert not voice.is_working_day(datetime.date(2003, 10, 4))  # Saturday
    warnings = [r for r in caplog.records if "没有 2003 年的安排" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"


def test_publishing_on_a_friday_gives_a_deadline_after_the_weekend(item, office, clock, settings):
    settings.FEEDBACK_ANSWER_WORKING_DAYS = 3
    clock(at(2024, 6, 14))  # Friday
    feedback = published(item, office)
    assert feedback.due_on == datetime.date(2024, 6, 19)  # Wednesday
    assert not feedback.is_overdue(datetime.date(2024, 6, 19))
    assert feedback.is_overdue(datetime.date(2024, 6, 20))


# ------------------------------------------------------------------------------
# The life cycle
# ------------------------------------------------------------------------------
def test_a_message_waits_for_moderation_and_is_not_on_the_item_page(client, item):
    response = send(client, item, name="王女士", show_name="on", contact="13800000000")
    assert response.status_code == 302
    assert response["Location"].endswith("/2024/items/1-1/feedback/thanks/")
    feedback = Feedback.objects.get()
    assert feedback.state == "pending" and feedback.contact == "13800000000"
    assert feedback.show_name is True
    page = client.get(item.get_absolute_url()).content.decode()
    assert "希望培训安排在周末" not in page
    assert "尚无公开的留言" in page
    thanks = client.get(response["Location"]).content.decode()
    assert "5 个工作日内答复" in thanks


def test_the_item_page_links_to_the_forms_and_stays_cacheable(client, item):
    page = client.get(item.get_absolute_url())
    text = page.content.decode()
    assert form_url(item) in text
    assert reverse("livelihood:item-rate", args=[2024, "1-1"]) in text
    assert "csrfmiddlewaretoken" not in text
    assert page["X-Page-Cache"] in ("miss", "pass")
    form = client.get(form_url(item))
    assert "csrfmiddlewaretoken" in form.content.decode()
    assert "no-store" in form["Cache-Control"]


def test_a_post_without_the_csrf_token_is_refused_in_chinese(item):
    client = Client(enforce_csrf_checks=True)
    response = send(client, item)
    assert response.status_code == 403
    assert "表单已失效" in response.content.decode()
    assert not Feedback.objects.exists()


def test_the_office_publishes_and_the_lead_unit_answers_under_the_message(
    client, item, office, clerk, clock
):
    clock(at(2024, 6, 3))
    send(client, item, message="夜间培训班能否增加名额？")
    feedback = Feedback.objects.get()
    admin_client = login(office)
    change = reverse("admin:livelihood_feedback_change", args=[feedback.pk])
    response = admin_client.post(
        change,
        {
            "message": feedback.message,
            "name": "",
            "contact": "",
            "decision": "publish",
            "reject_reason": "",
            "reject_note": "",
            "answer": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    feedback.refresh_from_db()
    assert feedback.state == "published" and feedback.moderated_by == office
    assert feedback.due_on == datetime.date(2024, 6, 11)  # Monday 10 June was 端午节
    assert "夜间培训班能否增加名额？" in client.get(item.get_absolute_url()).content.decode()

    clock(at(2024, 6, 5))
    response = login(clerk).post(change, {"answer": "已增加夜间班名额50个。"})
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.answered_by == clerk and not feedback.answered_late
    page = client.get(item.get_absolute_url()).content.decode()
    assert page.index("夜间培训班能否增加名额？") < page.index("已增加夜间班名额50个。")
    assert "区人力资源和社会保障局答复" in page
    # Every step is in the history.
    assert feedback.history.count() >= 3


def test_rejection_needs_a_reason_and_keeps_the_message_off_the_site(client, item, office):
    feedback = voice.feedback_submit(item=item, message="这是一条与本事项无关的广告内容。")
    admin_client = login(office)
    change = reverse("admin:livelihood_feedback_change", args=[feedback.pk])
    data = {"message": feedback.message, "decision": "reject", "reject_reason": ""}
    response = admin_client.post(change, data)
    assert response.status_code == 200
    assert "不予公开时请选择原因" in response.content.decode()
    response = admin_client.post(change, data | {"reject_reason": "off_topic"})
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.state == "rejected" and feedback.get_reject_reason_display() == "与本事项无关"
    assert "广告内容" not in client.get(item.get_absolute_url()).content.decode()
    with pytest.raises(voice.FeedbackError):
        voice.feedback_reject(feedback=feedback, user=office, reason="")


def test_the_office_can_take_a_phone_number_out_before_publishing(item, office):
    feedback = voice.feedback_submit(item=item, message="请联系我 一三八零零零零零零零零。")
    voice.feedback_publish(feedback=feedback, user=office, message="请联系我。")
    assert Feedback.objects.get().message == "请联系我。"


def test_only_the_office_moderates_and_only_the_lead_unit_answers(item, office, clerk, other_clerk):
    feedback = voice.feedback_submit(item=item, message="希望增加就业岗位信息发布。")
    with pytest.raises(voice.FeedbackError):
        voice.feedback_publish(feedback=feedback, user=clerk)
    with pytest.raises(voice.FeedbackError, match="尚未公开"):
        voice.feedback_answer(feedback=feedback, user=clerk, answer="好的")
    voice.feedback_publish(feedback=feedback, user=office)
    with pytest.raises(voice.FeedbackError, match="本单位"):
        voice.feedback_answer(feedback=feedback, user=other_clerk, answer="好的")
    assert voice.feedback_answer(feedback=feedback, user=clerk, answer="好的").answer == "好的"


def test_a_lead_unit_sees_its_published_messages_only_and_never_the_contact(
    item, make_item, other_unit, office, clerk, other_clerk
):
    mine = published(
        item,
        office,
        message="本单位的留言内容",
        name="张先生",
        show_name=False,
        contact="13912345678",
    )
    pending = voice.feedback_submit(item=item, message="还在审核中的留言")
    theirs = published(make_item(lead_unit=other_unit), office, message="其他单位的留言内容")
    client = login(clerk)
    listing = client.get(reverse("admin:livelihood_feedback_changelist")).content.decode()
    assert "本单位的留言内容" in listing
    assert "还在审核中的留言" not in listing and "其他单位的留言内容" not in listing
    page = client.get(reverse("admin:livelihood_feedback_change", args=[mine.pk]))
    text = page.content.decode()
    assert page.status_code == 200 and "本单位的留言内容" in text
    assert "13912345678" not in text and "张先生" not in text and "匿名居民" in text
    for foreign in (theirs, pending):
        response = client.get(reverse("admin:livelihood_feedback_change", args=[foreign.pk]))
        assert response.status_code in (302, 403, 404)
    office_page = login(office).get(reverse("admin:livelihood_feedback_change", args=[mine.pk]))
    assert "13912345678" in office_page.content.decode()


def test_a_lead_units_history_shows_no_text_from_before_publication(item, office, clerk):
    feedback = voice.feedback_submit(item=item, message="原文含有住址幸福路8号3栋", name="赵某")
    feedback = voice.feedback_publish(feedback=feedback, user=office, message="住址已隐去")
    client = login(clerk)
    history = client.get(reverse("admin:livelihood_feedback_history", args=[feedback.pk]))
    assert history.status_code == 200
    assert "幸福路" not in history.content.decode()
    first = feedback.history.order_by("history_id").first()
    version = client.get(
        reverse("admin:livelihood_feedback_simple_history", args=[feedback.pk, first.history_id])
    )
    assert version.status_code == 404
    office_history = login(office).get(
        reverse("admin:livelihood_feedback_history", args=[feedback.pk])
    )
    assert "幸福路" in office_history.content.decode()


def test_the_history_never_holds_the_contact(item):
    voice.feedback_submit(item=item, message="希望公开办理进度。", contact="13700001111")
    assert not hasattr(Feedback.history.model, "contact")
    assert not any(f.name == "contact" for f in Feedback.history.model._meta.get_fields())


# ------------------------------------------------------------------------------
# Overdue answers: the reporting board and the unit's page
# ------------------------------------------------------------------------------
def test_overdue_answers_are_flagged_on_the_board_and_the_unit_page(
    client, item, make_item, office, clerk, clock
):
    clock(at(2024, 6, 3))  # Monday
    late = published(item, office, message="第一条留言，尚未答复。")
    answered = published(item, office, message="第二条留言，已经答复。")
    voice.feedback_answer(feedback=answered, user=clerk, answer="已处理。")
    clock(at(2024, 6, 12))  # the deadline (11 June: Monday 10 June was 端午节) has passed
    waiting = published(make_item(), office, message="第三条留言，还在期限内。")
    assert late.due_on == datetime.date(2024, 6, 11)
    assert voice.answer_counts(Feedback.objects.all()) == voice.AnswerCounts(
        published=3, answered=1, answered_on_time=1, overdue=1
    )
    assert waiting.due_on == datetime.date(2024, 6, 19)

    board = login(office).get(reverse("admin:livelihood_monthlyreport_board"))
    text = board.content.decode()
    assert "居民留言逾期未答复" in text
    assert board.context["feedback_overdue"][0][1] == 1
    clerk_board = login(clerk).get(reverse("admin:livelihood_monthlyreport_board"))
    assert clerk_board.context["feedback_overdue"][0][1] == 1

    page = client.get(reverse("livelihood:unit-detail", args=[2024, "rsj"])).content.decode()
    assert "已答复 <strong>1</strong> 条" in page
    assert "逾期未答复 1 条" in page
    assert "待答复 1 条" in page
    item_page = client.get(item.get_absolute_url()).content.decode()
    assert "已逾期未答复" in item_page


def test_an_answer_after_the_deadline_counts_as_answered_late(item, office, clerk, clock):
    clock(at(2024, 6, 3))
    feedback = published(item, office)
    clock(at(2024, 6, 12))
    feedback = voice.feedback_answer(feedback=feedback, user=clerk, answer="迟复为歉。")
    assert feedback.answered_late
    assert voice.answer_counts(Feedback.objects.all()).answered_on_time == 0


# ------------------------------------------------------------------------------
# Abuse: rate limits, the honeypot, the queue bound, length and links
# ------------------------------------------------------------------------------
def test_rate_limit_per_client_address(client, item, settings):
    settings.FEEDBACK_LIMIT_PER_ADDRESS = 2
    for _ in range(2):
        assert send(client, item).status_code == 302
    refused = send(client, item)
    assert refused.status_code == 429
    assert "提交过于频繁" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    assert Feedback.objects.count() == 2
    elsewhere = send(client, item, REMOTE_ADDR="10.0.0.9")
    assert elsewhere.status_code == 302


def test_rate_limit_per_item(client, item, make_item, settings):
    settings.FEEDBACK_LIMIT_PER_ITEM = 2
    for number in range(2):
        assert send(client, item, REMOTE_ADDR=f"10.0.0.{number}").status_code == 302
    assert send(client, item, REMOTE_ADDR="10.0.0.7").status_code == 429
    assert send(client, make_item(), REMOTE_ADDR="10.0.0.8").status_code == 302


def test_a_trusted_proxy_header_names_the_client(client, item, settings):
    settings.FEEDBACK_LIMIT_PER_ADDRESS = 1
    settings.CLIENT_ADDRESS_HEADER = "X-Forwarded-For"
    first = send(client, item, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.5")
    assert first.status_code == 302
    # A forged first entry does not make a new client: the proxy's entry counts.
    again = send(client, item, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.5")
    assert again.status_code == 429
    other = send(client, item, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert other.status_code == 302


def test_without_a_trusted_header_a_forwarded_address_is_ignored(client, item, settings):
    settings.FEEDBACK_LIMIT_PER_ADDRESS = 1
    send(client, item, HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert send(client, item, HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429


def test_ipv6_clients_are_counted_per_64_block(rf):
    from livelihood.voice.ratelimit import client_address

    one = client_address(rf.get("/", REMOTE_ADDR="2001:db8:1:2::1"))
    two = client_address(rf.get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9"))
    assert one == two == "2001:db8:1:2::/64"


def test_ipv6_submissions_share_the_limit_of_their_64_block(client, item, settings):
    settings.FEEDBACK_LIMIT_PER_ADDRESS = 1
    assert send(client, item, REMOTE_ADDR="2001:db8:1:2::1").status_code == 302
    assert send(client, item, REMOTE_ADDR="2001:db8:1:2:ffff::9").status_code == 429
    assert send(client, item, REMOTE_ADDR="2001:db8:1:3::1").status_code == 302


def test_retry_after_is_what_is_left_of_the_window(client, item, settings):
    settings.FEEDBACK_LIMIT_PER_ADDRESS = 1
    settings.RATE_LIMIT_WINDOW_SECONDS = 600
    send(client, item)
    refused = send(client, item)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 601


def test_a_cache_that_does_not_answer_lets_the_submission_through(
    client, item, settings, monkeypatch, caplog
):
    from django.core.cache import caches

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    settings.FEEDBACK_LIMIT_PER_ADDRESS = 1
    monkeypatch.setattr(caches["default"], "add", down)
    for _ in range(2):
        assert send(client, item).status_code == 302
    assert Feedback.objects.count() == 2
    assert "限流计数不可用" in caplog.text


def test_the_honeypot_is_thanked_and_ignored(client, item):
    response = send(client, item, website="http://spam.example")
    assert response.status_code == 302
    assert not Feedback.objects.exists()
    page = client.get(form_url(item)).content.decode()
    assert 'class="honeypot"' in page and 'name="website"' in page


def test_the_queue_never_holds_more_than_its_bound(client, item, make_item, settings):
    settings.FEEDBACK_QUEUE_MAX_PER_ITEM = 2
    settings.FEEDBACK_QUEUE_MAX = 3
    for number in range(2):
        assert send(client, item, REMOTE_ADDR=f"10.1.0.{number}").status_code == 302
    full = send(client, item, message="这条留言被拒收时不应丢失。", REMOTE_ADDR="10.1.0.9")
    assert full.status_code == 429
    assert "待处理的留言较多" in full.content.decode()
    assert "这条留言被拒收时不应丢失。" in full.content.decode()  # the form again, as typed
    other = make_item()
    assert send(client, other, REMOTE_ADDR="10.1.1.1").status_code == 302
    assert send(client, make_item(), REMOTE_ADDR="10.1.1.2").status_code == 429
    assert Feedback.objects.filter(state="pending").count() == 3


def test_moderated_messages_make_room_in_the_queue(client, item, office, settings):
    settings.FEEDBACK_QUEUE_MAX_PER_ITEM = 1
    assert send(client, item, REMOTE_ADDR="10.2.0.1").status_code == 302
    assert send(client, item, REMOTE_ADDR="10.2.0.2").status_code == 429
    voice.feedback_publish(feedback=Feedback.objects.get(), user=office)
    assert send(client, item, REMOTE_ADDR="10.2.0.3").status_code == 302


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"message": "太短"}, "至少需要 5 个字"),
        ({"message": "长" * 501}, "最多 500 个字"),
        ({"message": "详情请看 http://example.com/ad 领取优惠"}, "不要包含网址"),
        ({"message": "详情请看 www.example.cn 领取优惠"}, "不要包含网址"),
        ({"message": "有问题请打我电话13800138000谢谢"}, "手机号码或身份证号"),
        ({"name": "名" * 21}, "称呼最多 20 个字"),
        ({"contact": "1" * 51}, "联系方式最多 50 个字"),
    ],
)
def test_lengths_links_and_personal_numbers_are_refused(client, item, fields, error):
    data = {"message": "希望增加周末培训班次。"} | fields
    response = client.post(form_url(item), data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Feedback.objects.exists()


def test_published_text_is_plain_text_never_html_or_links(client, item, office, clerk):
    feedback = published(item, office, message='<a href="/x">点我</a><script>alert(1)</script>')
    voice.feedback_answer(
        feedback=feedback, user=clerk, answer="<b>已办理</b> 见 https://x.example"
    )
    page = client.get(item.get_absolute_url()).content.decode()
    assert "&lt;a href=&quot;/x&quot;&gt;点我&lt;/a&gt;&lt;script&gt;" in page
    assert "&lt;b&gt;已办理&lt;/b&gt; 见 https://x.example" in page
    assert 'href="https://x.example"' not in page and "<script>alert" not in page


# ------------------------------------------------------------------------------
# What never reaches a public page
# ------------------------------------------------------------------------------
def test_unpublished_messages_contacts_and_hidden_names_appear_on_no_public_page(
    client, item, office, report, make_indicator
):
    report(item, "2024-06", {make_indicator(item, "100"): "40"})
    voice.feedback_submit(item=item, message="待审核留言PENDINGTEXT", contact="CONTACTPENDING")
    rejected = voice.feedback_submit(item=item, message="不予公开REJECTEDTEXT")
    voice.feedback_reject(feedback=rejected, user=office, reason="spam")
    published(item, office, message="已公开的留言内容", name="HIDDENNAME", contact="CONTACTSHOWN")
    published(item, office, message="另一条公开留言", name="钱女士", show_name=True)
    withdrawn = published(item, office, message="撤回WITHDRAWNTEXT")
    voice.feedback_reject(feedback=withdrawn, user=office, reason="personal")
    urls = [
        reverse("livelihood:home"),
        reverse("livelihood:plan-home", args=[2024]),
        item.get_absolute_url(),
        reverse("livelihood:item-messages", args=[2024, item.code]),
        reverse("livelihood:unit-detail", args=[2024, "rsj"]),
        reverse("livelihood:domain-detail", args=[2024, 1]),
        reverse("livelihood:search", args=[2024]) + "?q=留言",
        reverse("livelihood:month-detail", args=[2024, "2024-06"]),
        reverse("livelihood:publicity", args=[2024]),
        reverse("livelihood:item-feedback-thanks", args=[2024, item.code]),
    ]
    secrets = ["PENDINGTEXT", "REJECTEDTEXT", "WITHDRAWNTEXT", "CONTACT", "HIDDENNAME"]
    for url in urls:
        page = client.get(url).content.decode()
        for secret in secrets:
            assert secret not in page, (url, secret)
    item_page = client.get(item.get_absolute_url()).content.decode()
    assert "已公开的留言内容" in item_page and "匿名居民" in item_page
    assert "钱女士" in item_page


def test_item_page_runs_a_fixed_number_of_queries_whatever_the_feedback_and_votes(
    client, item, office, clerk
):
    published(item, office)
    with CaptureQueriesContext(connection) as small:
        assert client.get(item.get_absolute_url()).status_code == 200
    for number in range(12):
        feedback = published(item, office, message=f"第{number}条留言内容")
        voice.feedback_answer(feedback=feedback, user=clerk, answer="已答复。")
        SatisfactionVote.objects.create(
            item=item, month=datetime.date(2024, 6, 1), rating="basic", voter=f"v{number}"
        )
    with CaptureQueriesContext(connection) as large:
        page = client.get(item.get_absolute_url())
    assert len(small) == len(large)
    assert "查看全部 13 条留言" in page.content.decode()


def test_the_messages_page_lists_every_published_message_in_pages(client, item, office):
    for number in range(23):
        published(item, office, message=f"第{number:02d}条公开留言")
    url = reverse("livelihood:item-messages", args=[2024, item.code])
    with CaptureQueriesContext(connection) as first_page:
        page = client.get(url).content.decode()
    assert "共公开留言 <strong>23</strong> 条" in page and "第22条公开留言" in page
    assert "第02条公开留言" not in page
    assert "第00条公开留言" in client.get(url + "?page=2").content.decode()
    published(item, office, message="再来一条留言内容")
    with CaptureQueriesContext(connection) as again:
        client.get(url)
    assert len(first_page) == len(again)


def test_publishing_mails_the_lead_units_staff_without_the_residents_details(
    item, office, make_staff, unit, django_capture_on_commit_callbacks, mailoutbox
):
    make_staff("clerk-mail", unit, email="clerk@rsj.example")
    make_staff("office-mail", email="office@example")
    feedback = voice.feedback_submit(
        item=item, message="希望增加夜间培训班次。", name="孙女士", contact="13600001111"
    )
    with django_capture_on_commit_callbacks(execute=True):
        voice.feedback_publish(feedback=feedback, user=office)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["clerk@rsj.example"]
    assert "希望增加夜间培训班次。" in mail.body and "前在管理后台" in mail.body
    assert "孙女士" not in mail.body and "13600001111" not in mail.body


def test_a_pending_message_leaves_cached_pages_alone_and_publishing_refreshes_them(
    item, office, monkeypatch
):
    from livelihood.operations import signals

    bumps = []
    monkeypatch.setattr(
        signals, "publication_bump", lambda using="default", **scope: bumps.append(using)
    )
    feedback = voice.feedback_submit(item=item, message="希望增加夜间培训班次。")
    assert bumps == []
    voice.feedback_publish(feedback=feedback, user=office)
    assert bumps

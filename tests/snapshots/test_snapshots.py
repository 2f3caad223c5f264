"""The stored progress snapshot (issue 16): written with what it reflects, read by the pages,
and the same, number for number, as the arithmetic computed afresh."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from livelihood.progress import selectors
from livelihood.reporting import services
from livelihood.reporting.models import MonthlyReport
from livelihood.snapshots import build, read, verify
from livelihood.snapshots.models import ItemSnapshot, SnapshotBuild, View

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(plan, make_item, make_indicator, report, milestone, other_unit):
    """A plan with approved figures in two months, a milestone done, a second unit, and its
    snapshot written as a service writes it."""
    first = make_item(weight=2)
    second = make_item(lead_unit=other_unit)
    count = make_indicator(first, "1000")
    rate = make_indicator(second, "90", kind="rate", unit="%")
    report(first, "2024-05", {count: "300"})
    june = report(first, "2024-06", {count: "700"})
    report(second, "2024-06", {rate: "45"})
    milestone(first, "2024-06-30", done_in=june)
    milestone(first, "2024-11-30")
    build.write_pending()
    return plan, first, second, june


def test_a_service_writes_the_snapshot_in_its_own_transaction(published, office):
    plan, first, _, june = published
    assert not build.is_pending(plan.pk)
    assert SnapshotBuild.objects.get(plan=plan).data_month.isoformat() == "2024-06-01"
    services.report_reopen(report=june, user=office, reason="数据有误")
    # Written before the reopening committed: nothing left for the reader to compute afresh.
    assert not build.is_pending(plan.pk)
    assert verify.differences(plan) == []
    current = read.current(plan, pk=first.pk)
    assert current.stored
    assert current.items[0].snapshot.progress_display == "30%"


def test_stored_and_afresh_agree_on_every_view(published):
    plan = published[0]
    assert verify.differences(plan) == []
    assert (
        ItemSnapshot.objects.filter(plan=plan, view=View.PUBLISHED).count() == 2 * 9
    )  # April (issued) to December


PAGES = [
    ("livelihood:home", ()),
    ("livelihood:domain-detail", (2024, 1)),
    ("livelihood:item-detail", (2024, "1-1")),
    ("livelihood:unit-detail", (2024, "rsj")),
    ("livelihood:month-detail", (2024, "2024-06")),
    ("livelihood:plan-list", ()),
    ("livelihood:search", (2024,)),
]


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_a_page_read_from_the_snapshot_is_the_page_computed_afresh(
    client, published, monkeypatch, settings, name, args
):
    settings.PUBLIC_PAGE_CACHE = False
    url = reverse(name, args=args)
    query = {"q": "事项"} if name == "livelihood:search" else {}
    stored = client.get(url, query)
    assert stored.status_code == 200
    monkeypatch.setattr(read, "_build", lambda plan: None)
    afresh = client.get(url, query)
    assert stored.content.decode() == afresh.content.decode()
    if name not in ("livelihood:month-detail", "livelihood:plan-list"):
        assert "70%" in stored.content.decode()  # the first item's 700 of 1000


def test_a_change_not_yet_written_is_read_afresh(published, client, settings):
    settings.PUBLIC_PAGE_CACHE = False
    plan, _, _, june = published
    # An edit straight to the database, as a migration or a shell would make it.
    figure = june.figures.get()
    figure.value = 900
    figure.save()
    assert build.is_pending(plan.pk)
    assert not read.current(plan).stored
    assert "90%" in client.get(reverse("livelihood:home")).content.decode()


def test_verify_reports_each_difference_and_fails(published):
    first = published[1]
    row = ItemSnapshot.objects.get(item=first, view=View.AS_OF, month="2024-06-01")
    row.body = {**row.body, "progress": "0.99"}
    row.save()
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_snapshots", stdout=out, stderr=err)
    assert exit_.value.code == 1
    assert "progress 快照为 '0.99'，应为 '0.7" in out.getvalue()
    assert "1 处差异" in err.getvalue()
    call_command("rebuild_snapshots", stdout=io.StringIO())
    out = io.StringIO()
    call_command("verify_snapshots", stdout=out)
    assert "0 处差异" in out.getvalue()


def test_approval_moves_the_data_month_for_every_item(published, office, report):
    plan, first, _, _ = published
    july = report(first, "2024-07", {first.indicators.get(): "800"}, state="submitted")
    services.report_approve(report=july, user=office)
    assert SnapshotBuild.objects.get(plan=plan).data_month.isoformat() == "2024-07-01"
    standing = read.current(plan)
    assert standing.stored and standing.data_month.isoformat() == "2024-07-01"
    assert MonthlyReport.objects.get(pk=july.pk).state == "approved"
    assert verify.differences(plan) == []


def test_as_of_reads_each_stored_month_and_computes_a_later_one(published):
    plan = published[0]
    for month in (datetime.date(2024, 5, 1), datetime.date(2024, 6, 1)):
        standing = read.as_of(plan, month, last_approved=True)
        assert standing.stored and standing.data_month == month
        afresh = list(plan.items.with_progress(month).order_by(*read.ORDER))
        assert [i.snapshot for i in standing.items] == [i.snapshot for i in afresh]
        assert [i._last_approved for i in standing.items] == [i._last_approved for i in afresh]
        parts = [(i.snapshot, i.weight) for i in standing.items]
        assert standing.rollup_of(parts) == standing.rollup(standing.items)
    july = datetime.date(2024, 7, 1)  # after the data month: judged at July, stored nowhere
    later = read.as_of(plan, july)
    assert not later.stored and later.data_month == july


# ------------------------------------------------------------------------------
# One item: the item page's current standing and trend
# ------------------------------------------------------------------------------
def trend_inputs(item):
    """What the item page passes to the trend: its approved reports, oldest first, and their
    district totals by month."""
    reports = list(MonthlyReport.objects.approved().filter(item=item).order_by("month"))
    totals = {
        r.month: {f.indicator_id: f.value for f in r.figures.filter(street__isnull=True)}
        for r in reports
    }
    return reports, totals


def read_trend(standing):
    reports, totals = trend_inputs(standing.item)
    indicators = list(standing.item.indicators.all())
    milestones = list(standing.item.milestones.all())
    return standing.trend(indicators, milestones, reports, totals)


def afresh_trend(item):
    afresh = item.plan.items.with_progress().get(pk=item.pk)
    reports, totals = trend_inputs(afresh)
    indicators, milestones = list(afresh.indicators.all()), list(afresh.milestones.all())
    return afresh, selectors.item_trend(afresh, indicators, milestones, reports, totals)


def set_stored_progress(item, month, value):
    """A value no arithmetic gives, written straight into the item's stored row."""
    row = ItemSnapshot.objects.get(item=item, view=View.AS_OF, month=month)
    row.body = {**row.body, "progress": value, "uncapped": value}
    row.save()


def test_item_reads_its_stored_rows_equal_to_the_item_computed_afresh(published):
    plan, first, second, _ = published
    for item in (first, second):
        standing = read.item(plan, item.code)
        assert standing.stored
        afresh, trend = afresh_trend(item)
        assert standing.item.snapshot == afresh.snapshot
        assert standing.item._last_approved == afresh._last_approved
        assert [i.latest_value for i in standing.item.indicators.all()] == [
            i.latest_value for i in afresh.indicators.all()
        ]
        assert [m.is_done for m in standing.item.milestones.all()] == [
            m.is_done for m in afresh.milestones.all()
        ]
        assert read_trend(standing) == trend
    assert [p.progress_display for p in read_trend(read.item(plan, first.code))] == ["30%", "70%"]
    assert read.item(plan, "9-9") is None


def test_item_reads_the_current_and_each_months_row_not_the_arithmetic(published):
    plan, first, _, _ = published
    set_stored_progress(first, "2024-06-01", "0.123")
    set_stored_progress(first, "2024-05-01", "0.045")
    standing = read.item(plan, first.code)
    assert standing.item.snapshot.progress_display == "12.3%"
    assert [p.progress_display for p in read_trend(standing)] == ["4.5%", "12.3%"]


def test_item_is_computed_afresh_when_pending_or_not_stored(published, monkeypatch):
    plan, first, _, june = published
    set_stored_progress(first, "2024-06-01", "0.123")
    figure = june.figures.get()
    figure.value = 900
    figure.save()
    assert build.is_pending(plan.pk)
    pending = read.item(plan, first.code)
    assert not pending.stored
    assert pending.item.snapshot.progress_display == "90%"
    assert [p.progress_display for p in read_trend(pending)] == ["30%", "90%"]
    build.write_pending()
    monkeypatch.setattr(read, "_build", lambda plan: None)
    unbuilt = read.item(plan, first.code)
    assert not unbuilt.stored and unbuilt.item.snapshot.progress_display == "90%"


def test_item_is_computed_afresh_when_its_rows_are_missing(published):
    plan, first, _, _ = published
    ItemSnapshot.objects.filter(item=first, view=View.AS_OF, month="2024-05-01").delete()
    set_stored_progress(first, "2024-06-01", "0.123")
    standing = read.item(plan, first.code)
    assert standing.stored  # the current row is there
    assert [p.progress_display for p in read_trend(standing)] == ["30%", "70%"]
    ItemSnapshot.objects.filter(item=first, view=View.AS_OF, month="2024-06-01").delete()
    standing = read.item(plan, first.code)
    assert not standing.stored and standing.item.snapshot.progress_display == "70%"


def test_item_with_a_report_after_the_stored_data_month_is_computed_afresh(published, report):
    plan, first, _, _ = published
    # Approved with no signal to mark the plan (a bulk update): the snapshot is behind.
    july = report(first, "2024-07", {first.indicators.get(): "800"}, state="submitted")
    build.write_pending()
    MonthlyReport.objects.filter(pk=july.pk).update(state="approved")
    standing = read.item(plan, first.code)
    assert not standing.stored
    assert standing.item.snapshot.progress_display == "80%"
    assert [p.progress_display for p in read_trend(standing)] == ["30%", "70%", "80%"]


def test_item_page_shows_the_stored_rows(published, client, settings):
    settings.PUBLIC_PAGE_CACHE = False
    first = published[1]
    set_stored_progress(first, "2024-06-01", "0.123")
    set_stored_progress(first, "2024-05-01", "0.045")
    page = client.get(first.get_absolute_url()).content.decode()
    standing = page.split('id="standing-heading"')[1].split("</section>")[0]
    assert "12.3%" in standing and "70%" not in standing
    trend = page.split('id="trend-heading"')[1].split("</section>")[0]
    assert '<td class="num">4.5%</td>' in trend and '<td class="num">12.3%</td>' in trend
    assert "30%" not in trend and "70%" not in trend


def test_item_page_not_yet_written_is_computed_afresh(published, client, settings):
    settings.PUBLIC_PAGE_CACHE = False
    plan, first, _, june = published
    set_stored_progress(first, "2024-06-01", "0.123")
    figure = june.figures.get()
    figure.value = 900
    figure.save()
    assert build.is_pending(plan.pk)
    page = client.get(first.get_absolute_url()).content.decode()
    assert "12.3%" not in page
    assert '<td class="num">90%</td>' in page.split('id="trend-heading"')[1]

"""
An Atom feed of approved updates: one entry per approved monthly report, newest approval
first, at most FEED_SIZE. Linked from the home page's <head> and from the data page.

An entry names the item and the month and lists the report's district totals as the item page
shows them. Its id is Django's tag URI of its link (host, item, month) and the day of approval.
"""

from django.contrib.syndication.views import Feed
from django.db.models import F, Prefetch
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from livelihood.data.base import FEED_SIZE
from livelihood.progress import arithmetic as progress
from livelihood.reporting.models import Figure, MonthlyReport


class ApprovedUpdatesFeed(Feed):
    feed_type = Atom1Feed
    title = "瑶海区民生实事最新审核进展"
    subtitle = "瑶海区民生工作领导小组办公室审核公开的各事项月度进展，最新在前。"
    author_name = "瑶海区民生工作领导小组办公室"
    feed_copyright = "瑶海区民生实事进度公开平台，只含已审核公开的数据。"

    def link(self):
        return reverse("livelihood:home")

    def feed_url(self):
        return reverse("livelihood:feed")

    def items(self):
        totals = (
            Figure.objects.filter(street__isnull=True)
            .select_related("indicator")
            .order_by("indicator__number")
        )
        return (
            MonthlyReport.objects.approved()
            .filter(item__plan__published=True)
            .select_related("item__plan")
            .prefetch_related(Prefetch("figures", queryset=totals))
            .order_by(F("reviewed_at").desc(nulls_last=True), "-month", "item__code")[:FEED_SIZE]
        )

    def item_title(self, report):
        demo = "【演示数据】" if report.is_demo else ""
        item = report.item
        return f"{demo}{item.code} {item.title}：{report.month:%Y年%-m月}进展"

    def item_description(self, report):
        figures = [
            f"{figure.indicator.name} {progress.format_plain(figure.value, figure.indicator.unit)}"
            for figure in report.figures.all()
        ]
        parts = [f"{report.item.plan.year}年 {report.item.code} {report.item.title}"]
        parts.append(f"{report.month:%Y年%-m月}数值：" + ("；".join(figures) or "本月无数值"))
        if report.narrative:
            parts.append(f"进展情况：{report.narrative}")
        if report.is_demo:
            parts.append("演示数据，由系统生成，并非牵头单位实际填报，不能引用。")
        return "。".join(part.rstrip("。") for part in parts) + "。"

    def item_link(self, report):
        """The item page; the month as fragment makes each entry's link, and so the tag URI
        Django makes its id from, its own."""
        return f"{report.item.get_absolute_url()}#{report.month:%Y-%m}"

    def item_pubdate(self, report):
        return report.reviewed_at or report.created_at

    def item_updateddate(self, report):
        return report.reviewed_at or report.created_at

"""A resident recomputes every page from the open data alone (issue 14).

Written as a careful resident or journalist would: download the datasets the data page lists
(JSON), read the field list and the published method (the about page), and recompute by hand,
without any of the portal's code, each item's, domain's and the plan's progress, 序时进度 and
status for every data month of the demo data; then compare with the pages, the API and the
office's monthly summary. Nothing here imports from `livelihood`: the only inputs are HTTP
responses, so a rule the portal applies but does not publish makes this test fail.
"""

import calendar
import csv
import datetime
import io
import json
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

pytestmark = pytest.mark.django_db

FIXTURE = Path(django_settings.BASE_DIR) / "fixtures" / "plan_2024.json"
ONE, ZERO = Decimal(1), Decimal(0)
LABELS = {
    "not_started": "未启动",
    "on_track": "正常推进",
    "behind": "滞后",
    "done": "已完成",
    "exceeded": "超额完成",
}


# ------------------------------------------------------------------------------
# What the resident downloads
# ------------------------------------------------------------------------------
def _bytes(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def datasets(client, year):
    def get(name):
        response = client.get(f"/{year}/data/{name}.json")
        assert response.status_code == 200, name
        return json.loads(_bytes(response))["data"]

    return {
        name: get(name)
        for name in (
            "plans",
            "items",
            "indicators",
            "planned-values",
            "milestones",
            "reports",
            "figures",
            "corrections",
        )
    }


def month_of(text):
    return datetime.date(int(text[:4]), int(text[5:7]), 1)


def day_of(text):
    return None if not text else datetime.date.fromisoformat(text)


def last_day(month):
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def next_month(month, count=1):
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def number(value):
    return None if value is None or value == "" else Decimal(str(value))


def shown(fraction, places=1):
    """The percent a page shows: rounded half up (四舍五入) to one decimal."""
    if fraction is None:
        return None
    return (fraction * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def text_number(value):
    """A number as the pages write it: no trailing zeros (20.0 → 20)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def text_percent(fraction):
    value = shown(fraction)
    return "—" if value is None else f"{text_number(value)}%"


# ------------------------------------------------------------------------------
# The published method, by hand
# ------------------------------------------------------------------------------
class Resident:
    def __init__(self, data):
        self.plan = data["plans"][0]
        self.first_month = month_of(self.plan["first_month"])
        self.tolerance = Decimal(self.plan["tolerance_points"]) / 100
        self.due_day = int(self.plan["report_due_day"])
        self.items = data["items"]
        self.indicators = defaultdict(list)
        for row in data["indicators"]:
            self.indicators[row["item_code"]].append(row)
        self.planned = defaultdict(list)
        for row in data["planned-values"]:
            key = (row["item_code"], row["indicator_number"])
            self.planned[key].append((month_of(row["month"]), number(row["value"])))
        self.milestones = defaultdict(list)
        for row in data["milestones"]:
            self.milestones[row["item_code"]].append(row)
        self.reports = defaultdict(list)
        for row in data["reports"]:
            self.reports[row["item_code"]].append(row)
        self.figures = defaultdict(list)  # (item, indicator) -> [(month, value, approved_on)]
        for row in data["figures"]:
            if row["street_code"] == "":
                key = (row["item_code"], row["indicator_number"])
                self.figures[key].append(
                    (month_of(row["month"]), number(row["value"]), day_of(row["approved_on"]))
                )
        self.corrections = data["corrections"]

    def approved(self, report, by):
        approved_on = day_of(report["approved_on"])
        return (
            report["state"] == "approved"
            and approved_on is not None
            and (by is None or approved_on <= by)
        )

    def data_month(self, by=None):
        months = [
            month_of(r["month"])
            for rows in self.reports.values()
            for r in rows
            if self.approved(r, by)
        ]
        return max(months) if months else None

    def data_months(self):
        return sorted(
            {
                month_of(r["month"])
                for rows in self.reports.values()
                for r in rows
                if r["state"] == "approved"
            }
        )

    def value_at(self, key, as_of, by):
        """The latest approved district figure for a month up to `as_of`, as it stood on the
        day `by`: a figure approved again after `by` had, until then, the value the
        corrections dataset gives as before."""
        found = []
        for month, value, approved_on in self.figures[key]:
            if month > as_of:
                continue
            if by is not None and (approved_on is None or approved_on > by):
                value = self.before_correction(key, month, by)
                if value is None:
                    continue
            found.append((month, value))
        return max(found)[1] if found else None

    def before_correction(self, key, month, by):
        earlier = [
            c
            for c in self.corrections
            if (c["item_code"], c["indicator_number"], c["street_code"]) == (*key, "")
            and month_of(c["month"]) == month
            and day_of(c["published_before_on"]) <= by < day_of(c["corrected_on"])
        ]
        if not earlier:
            return None
        return number(min(earlier, key=lambda c: c["corrected_on"])["value_before"])

    def expected(self, indicator, item_code, as_of):
        kind = indicator["kind"]
        if kind in ("standard", "qualitative"):
            return self.milestone_expected(item_code, as_of)
        target = number(indicator["target"])
        planned = self.planned[(item_code, indicator["number"])]
        if planned and target:
            target_plain = target * int(indicator["scale"])
            reached = [value for month, value in sorted(planned) if month <= as_of]
            if not reached:
                return ZERO
            return min(max(reached[-1], ZERO) / target_plain, ONE)
        months = 12 - self.first_month.month + 1
        elapsed = (
            (as_of.year - self.first_month.year) * 12 + as_of.month - self.first_month.month + 1
        )
        return Decimal(max(0, min(elapsed, months))) / Decimal(months)

    def milestone_expected(self, item_code, as_of):
        rows = self.milestones[item_code]
        if not rows:
            return None
        end = last_day(as_of)
        return Decimal(sum(1 for m in rows if day_of(m["planned_on"]) <= end)) / len(rows)

    def milestones_done(self, item_code, as_of, by):
        done = 0
        for m in self.milestones[item_code]:
            if not m["done"] or not m["reported_month"]:
                continue
            if month_of(m["reported_month"]) > as_of:
                continue
            if by is not None and (
                day_of(m["approved_on"]) is None or day_of(m["approved_on"]) > by
            ):
                continue
            done += 1
        return done

    def indicator_progress(self, indicator, item_code, as_of, by):
        kind = indicator["kind"]
        if kind in ("standard", "qualitative"):
            total = len(self.milestones[item_code])
            if not total:
                return None
            return Decimal(min(self.milestones_done(item_code, as_of, by), total)) / total
        target = number(indicator["target"])
        if target is None:
            return None
        target_plain = target * int(indicator["scale"])
        value = self.value_at((item_code, indicator["number"]), as_of, by)
        if value is None:
            return ZERO
        if indicator["comparator"] == "lte":
            return ONE if value <= target_plain else ZERO
        if target_plain == 0:
            return ONE
        ratio = value / target_plain
        return min(ratio, ONE) if indicator["comparator"] == "approx" else ratio

    @staticmethod
    def mean(parts, cap=True):
        total = weights = ZERO
        for value, weight in parts:
            if value is None:
                continue
            total += (min(value, ONE) if cap else value) * weight
            weights += weight
        return total / weights if weights else None

    def item(self, item, as_of, by=None, today=None):
        code = item["code"]
        indicators = self.indicators[code] or [
            {"kind": "qualitative", "number": 0, "weight": 1, "target": None}
        ]
        rows = []
        for indicator in indicators:
            value = self.indicator_progress(indicator, code, as_of, by)
            expected = self.expected(indicator, code, as_of)
            rows.append((value, expected, Decimal(str(indicator["weight"]))))
        capped = self.mean((v, w) for v, _, w in rows)
        uncapped = self.mean(((v, w) for v, _, w in rows), cap=False)
        expected = self.mean((e if v is not None else None, w) for v, e, w in rows)
        has_approved = any(
            self.approved(r, by) and month_of(r["month"]) <= as_of for r in self.reports[code]
        )
        if not has_approved:
            status = "not_started"
        elif capped is None:
            status = "on_track"
        elif capped >= ONE:
            status = "exceeded" if uncapped > ONE else "done"
        elif expected is not None and capped < expected - self.tolerance:
            status = "behind"
        else:
            status = "on_track"
        return {
            "progress": capped,
            "uncapped": uncapped,
            "expected": expected,
            "status": status,
            "overdue": self.overdue(code, today, by) if today else None,
            "weight": Decimal(str(item["weight"])),
        }

    def overdue(self, code, today, by=None):
        """A month from the month of issue to December whose due day has passed before
        `today` without a report submitted (or approved)."""
        reported = set()
        for r in self.reports[code]:
            if not r["counts_as_reported"]:
                continue
            if by is not None and (
                day_of(r["submitted_on"]) is None or day_of(r["submitted_on"]) > by
            ):
                continue
            reported.add(month_of(r["month"]))
        month = self.first_month
        while month.year == self.first_month.year:
            due = next_month(month).replace(day=self.due_day)
            if due < today and month not in reported:
                return True
            month = next_month(month)
        return False

    def rollup(self, snapshots):
        snapshots = list(snapshots)
        return {
            "progress": self.mean((s["progress"], s["weight"]) for s in snapshots),
            "expected": self.mean(
                (s["expected"] if s["progress"] is not None else None, s["weight"])
                for s in snapshots
            ),
            "overdue": sum(1 for s in snapshots if s["overdue"]),
            "counts": {
                status: sum(1 for s in snapshots if s["status"] == status) for status in LABELS
            },
        }

    def plan_at(self, as_of, by=None, today=None):
        return {item["code"]: self.item(item, as_of, by, today) for item in self.items}


# ------------------------------------------------------------------------------
# The pages, read as text
# ------------------------------------------------------------------------------
def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def bar(html, label):
    """What a progress bar says: (完成, 序时进度) as text."""
    found = re.search(
        rf"{re.escape(label)}完成 <strong>([^<]+)</strong>(?:，序时进度 ([^<]+))?</span>", html
    )
    assert found, label
    return found[1], found[2]


def item_rows(html, end="</tr>"):
    rows = {}
    for found in re.finditer(rf'<span class="item-code">([^<]+)</span>(.*?){end}', html, re.S):
        rows[found[1]] = found[2]
    return rows


def status_of(cell):
    found = re.search(r'class="status status--(?!overdue)(\w+)"', cell)
    return found[1], "status--overdue" in cell


@pytest.fixture
def demo(db, client, settings):
    settings.DEBUG = True  # the demo is for development (load_demo refuses in production)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("loaddata", str(FIXTURE), verbosity=0)
    call_command("load_demo", stdout=io.StringIO())
    settings.DEBUG = False
    return Resident(datasets(client, 2024))


def test_every_page_the_api_and_the_summary_agree_with_the_residents_recomputation(
    demo, client, admin_client
):
    resident, today = demo, datetime.date.today()
    differences = []

    compared = defaultdict(int)

    def compare(where, shown_value, expected_value):
        compared[where.split(" ")[0]] += 1
        if shown_value != expected_value:
            differences.append(f"{where}: shows {shown_value!r}, recomputed {expected_value!r}")

    def standing_page(where, path, name, rolled):
        """A domain's or a unit's page: its progress bar and its overdue count."""
        html = page(client, path)
        expected = (text_percent(rolled["progress"]), text_percent(rolled["expected"]))
        compare(where, bar(html, name), expected)
        overdue = bool(re.search(rf"逾期未报</span> {rolled['overdue']} 项", html))
        compare(f"{where} overdue", overdue, True)

    # The latest data month: home, domain, unit and item pages, the API.
    latest = resident.data_month()
    now = resident.plan_at(latest, today=today)
    home = page(client, "/")
    compare(
        "home overall",
        bar(home, "全部事项"),
        (
            text_percent(resident.rollup(now.values())["progress"]),
            text_percent(resident.rollup(now.values())["expected"]),
        ),
    )
    for code, cell in item_rows(home, end="</li>").items():
        status, overdue = status_of(cell)
        mine = now[code]
        compare(f"home {code} status", (status, overdue), (mine["status"], mine["overdue"]))
        progress_text = re.search(r'item-row__progress">([^<]+)<', cell)[1]
        compare(f"home {code} progress", progress_text, text_percent(mine["uncapped"]))
    api_items = json.loads(client.get("/api/v1/plans/2024/items").content)["data"]
    for record in api_items:
        mine = now[record["code"]]
        compare(
            f"API {record['code']}",
            (
                number(record["progress"]),
                number(record["expected_progress"]),
                record["status"],
                record["overdue"],
            ),
            (shown(mine["uncapped"]), shown(mine["expected"]), mine["status"], mine["overdue"]),
        )
    by_domain = defaultdict(list)
    by_unit = defaultdict(list)
    for item in resident.items:
        by_domain[(item["domain_number"], item["domain_name"])].append(now[item["code"]])
        by_unit[item["lead_unit_code"], item["lead_unit_name"]].append(now[item["code"]])
    overall = resident.rollup(now.values())
    api_plan = json.loads(client.get("/api/v1/plans/2024").content)["data"]
    compare(
        "API plan",
        (number(api_plan["progress"]), number(api_plan["expected_progress"])),
        (shown(overall["progress"]), shown(overall["expected"])),
    )
    api_domains = {
        d["number"]: d for d in json.loads(client.get("/api/v1/plans/2024/domains").content)["data"]
    }
    for (domain_number, name), snapshots in by_domain.items():
        rolled = resident.rollup(snapshots)
        compare(
            f"API domain {domain_number}",
            (
                number(api_domains[domain_number]["progress"]),
                number(api_domains[domain_number]["expected_progress"]),
                api_domains[domain_number]["items_overdue"],
            ),
            (shown(rolled["progress"]), shown(rolled["expected"]), rolled["overdue"]),
        )
        standing_page(f"domain {domain_number}", f"/2024/domains/{domain_number}/", name, rolled)
    for (unit_code, name), snapshots in by_unit.items():
        rolled = resident.rollup(snapshots)
        standing_page(f"unit {unit_code}", f"/2024/units/{unit_code}/", name, rolled)
    for item in resident.items:
        html = page(client, f"/2024/items/{item['code']}/")
        mine = now[item["code"]]
        compare(
            f"item page {item['code']}",
            bar(html, item["title"]),
            (text_percent(mine["uncapped"]), text_percent(mine["expected"])),
        )

    # Every data month: the office's summary (CSV), as the office exports it.
    for month in resident.data_months():
        judged = min(
            today, next_month(month).replace(day=resident.due_day) + datetime.timedelta(days=1)
        )
        state = resident.plan_at(month, today=judged)
        response = admin_client.get(
            "/admin/exports/summary/", {"plan": 2024, "month": f"{month:%Y-%m}", "format": "csv"}
        )
        assert response.status_code == 200, month
        rows = list(csv.DictReader(io.StringIO(_bytes(response).decode("utf-8-sig"))))
        for row in rows:
            mine = state[row["事项编号"]]
            compare(
                f"summary {month:%Y-%m} {row['事项编号']}",
                (
                    number(row["进度（%）"]),
                    number(row["序时进度（%）"]),
                    row["状态"],
                    row["逾期未报"] == "是",
                ),
                (
                    shown(mine["uncapped"], 2),
                    shown(mine["expected"], 2),
                    LABELS[mine["status"]],
                    mine["overdue"],
                ),
            )

    # Every month's view as published at its end: approvals by that day only.
    previous = None
    month = resident.first_month
    while month <= latest:
        end = last_day(month)
        as_of = resident.data_month(by=end)
        html = page(client, f"/2024/months/{month:%Y-%m}/")
        state = resident.plan_at(as_of, by=end, today=end) if as_of else None
        rows = item_rows(html)
        for code, cell in rows.items():
            cells = re.findall(r"<td[^>]*>(.*?)</td>", cell, re.S)
            mine = state[code] if state else None
            if mine is None:
                continue
            compare(
                f"month {month:%Y-%m} {code} progress", cells[0], text_percent(mine["uncapped"])
            )
            compare(
                f"month {month:%Y-%m} {code} expected", cells[1], text_percent(mine["expected"])
            )
            compare(
                f"month {month:%Y-%m} {code} status",
                status_of(cells[2]),
                (mine["status"], mine["overdue"]),
            )
            if previous is not None and len(cells) > 3:
                before = previous[code]
                if before["uncapped"] is not None and mine["uncapped"] is not None:
                    delta = shown(mine["uncapped"]) - shown(before["uncapped"])
                    if delta:
                        sign = "+" if delta > 0 else ""
                        text = f"{sign}{text_number(delta)} 个百分点"
                        compare(f"month {month:%Y-%m} {code} change", text in cells[3], True)
                    elif before["status"] == mine["status"]:
                        compare(f"month {month:%Y-%m} {code} change", "无变化" in cells[3], True)
        previous = state
        month = next_month(month)

    assert not differences, f"{len(differences)} differences:\n" + "\n".join(differences[:50])
    # Every page was read, not a page that matched nothing: 30 items on the home page and the
    # API, 9 data months of the summary, 9 month views with changes in at least 10 items a month.
    assert compared["home"] == 1 + 30 * 2
    assert compared["API"] == 30 + 1 + 10
    assert compared["item"] == 30
    assert compared["domain"] == 20
    assert compared["summary"] >= 9 * 30
    assert compared["month"] >= 9 * 30 * 3 + 8 * 10
    assert compared["unit"] >= 2 * 18

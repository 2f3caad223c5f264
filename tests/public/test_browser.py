"""
Every public page type in headless Chromium, at 360 px (a phone) and 1280 px, on the real 2024
plan with demo progress: it renders, axe-core finds nothing serious or critical, nothing is
requested from another host, nothing is logged as an error, the markup is ready for a strict
Content-Security-Policy (no inline script or style) with one <h1> and lang="zh-Hans", and on a
phone nothing scrolls sideways and every control is at least 44 px tall.

Full-page screenshots and the axe results go to SCREENSHOT_DIR (default artifacts/screenshots/);
the run prints the folder at the end. Without Chromium (CHROMIUM_PATH, default
/usr/bin/chromium) these tests skip, unless REQUIRE_BROWSER=1 (as .ci/run sets), when they fail.
"""

import functools
import http.server
import io
import os
import threading
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from tests.browser import (
    CHROMIUM,
    DESKTOP_WIDTH,
    MIN_TARGET_PX,
    PHONE_WIDTH,
    Browser,
    PageType,
    format_violations,
)

pytestmark = pytest.mark.browser

REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER", "").lower() in {"1", "true", "yes", "on"}
SCREENSHOT_DIR = Path(
    os.environ.get("SCREENSHOT_DIR") or Path(settings.BASE_DIR) / "artifacts" / "screenshots"
).resolve()
WIDTHS = (PHONE_WIDTH, DESKTOP_WIDTH)


def url(name, *args, **query):
    path = reverse(f"livelihood:{name}", args=args)
    return f"{path}?{urlencode(query)}" if query else path


PAGES = [
    PageType("home", url("home"), ("main h1", "2024年50项民生实事")),
    PageType("domain", url("domain-detail", 2024, 1), ("main h1", "就业创业")),
    # 1-1 has figures per street; 9-2 is behind schedule in the demo data, with a reason.
    PageType("item-streets", url("item-detail", 2024, "1-1"), ("main", "明光路街道")),
    PageType("item-behind", url("item-detail", 2024, "9-2"), ("main", "滞后")),
    PageType("unit", url("unit-detail", 2024, "rsj"), ("main h1", "人力资源和社会保障局")),
    PageType("street", url("street-detail", 2024, "mingguanglu"), ("main h1", "明光路街道")),
    PageType("search", url("search", 2024, q="残疾"), ("main a[href*='/items/']", "残疾")),
    PageType("month-index", url("month-index", 2024), ("main a[href$='/months/2024-06/']", "6")),
    PageType("month", url("month-detail", 2024, "2024-06"), ("main h1", "6月")),
    PageType("about", url("about"), ("main", "瑶民生办〔2024〕1号")),
    PageType("data", url("data"), ("main a[href$='/2024/data/figures.xlsx']", "XLSX")),
    # Residents' voice and publicity.
    PageType("feedback", url("item-feedback", 2024, "1-1"), ("main h1", "我要留言")),
    PageType("messages", url("item-messages", 2024, "1-1"), ("main h1", "居民留言")),
    PageType("rate", url("item-rate", 2024, "1-1"), ("main legend", "是否满意")),
    PageType("publicity", url("publicity", 2024), ("main h1", "宣传月历")),
    # Every year's plan, and the evaluation results (none published in the demo: the empty state).
    PageType("plans", url("plan-list"), ("main h1", "历年民生实事")),
    PageType("evaluation", url("evaluation-index", 2024), ("main h1", "考核结果")),
    PageType("404", "/2024/no-such-page/", ("main h1", "页面不存在"), status=404),
]
PAGE_IDS = [page.id for page in PAGES]


class Summary:
    """Says at the end of the run where the screenshots are, and what axe-core found below
    "serious" (worth fixing, not failing the run)."""

    def __init__(self, folder):
        self.folder = folder
        self.lesser = {}  # (impact, rule id, help) → {page at width: [targets]}

    def add(self, visit):
        for violation in visit.violations_of("moderate", "minor"):
            key = (violation["impact"], violation["id"], violation["help"])
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
            self.lesser.setdefault(key, {})[f"{visit.page_type.id}@{visit.width}"] = targets

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.section("browser tests")
        terminalreporter.write_line(f"Screenshots and axe-core results: {self.folder}")
        for (impact, rule, help_text), pages in sorted(self.lesser.items()):
            targets = sorted({target for found in pages.values() for target in found})
            terminalreporter.write_line(
                f"axe {impact}: {rule} ({help_text}) on {len(pages)} page load(s): "
                f"{', '.join(sorted(pages))}; elements: {', '.join(targets[:5])}"
            )


@pytest.fixture(scope="session")
def chromium(request):
    """One Chromium for the session. Missing, it skips these tests, or fails them in CI."""
    reason = None
    if not CHROMIUM.exists():
        reason = (
            f"Chromium is not at {CHROMIUM} (set CHROMIUM_PATH, or install Debian's package: "
            "apt-get install chromium)"
        )
    else:
        try:
            import axe_playwright_python  # noqa: F401
            import playwright  # noqa: F401
        except ImportError as error:
            reason = f"{error.name} is not installed (pip install -r requirements/test.txt)"
    if reason:
        if REQUIRE_BROWSER:
            pytest.fail(f"REQUIRE_BROWSER is set but {reason}", pytrace=False)
        pytest.skip(reason)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    browser = Browser(CHROMIUM)
    browser.start()
    yield browser
    browser.stop()


@pytest.fixture(scope="session")
def summary(request, chromium):
    summary = Summary(SCREENSHOT_DIR)
    request.config.pluginmanager.register(summary, "browser-test-summary")
    return summary


@pytest.fixture(scope="module")
def portal_data(django_db_setup, django_db_blocker):
    """The 2024 plan and demo progress, committed once for the module and removed after it.
    The pages only read, so every test can share them. Cached pages need no clearing: their
    key holds the publication version, which a reload changes
    (livelihood/operations/publication.py)."""
    fast_hash = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    try:
        with django_db_blocker.unblock(), fast_hash:
            call_command("flush", interactive=False, verbosity=0)
            call_command("loaddata", "plan_2024", verbosity=0)
            # DEBUG is off under the test runner; the output lists the demo passwords.
            call_command("load_demo", "--force", stdout=io.StringIO())
        yield
    finally:
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def transactional_db(portal_data, django_db_blocker):
    """Replaces pytest-django's fixture of that name in this module (`live_server` asks for it).
    That one empties every table after each test; these tests only read, so the rows
    `portal_data` committed serve the whole module, and it removes them at the end."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="module")
def visits():
    return {}


@pytest.fixture
def visit(live_server, chromium, summary, visits):
    """Loads a page once per width (screenshot, measurements, axe-core) for all the tests
    below, and checks it answered with its status: a check passes only on the real page."""

    def load(page_type, width):
        key = (page_type.id, width)
        if key not in visits:
            visits[key] = chromium.visit(live_server.url, page_type, width, SCREENSHOT_DIR)
            summary.add(visits[key])
        result = visits[key]
        h1 = " / ".join(result.facts["h1"])
        assert result.status == page_type.status, (
            f"{result.label} answered {result.status}, not {page_type.status} (h1: {h1!r})"
        )
        return result

    return load


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page_type", PAGES, ids=PAGE_IDS)
def test_page_renders(visit, page_type, width):
    result = visit(page_type, width)
    selector, text = page_type.shows
    assert result.shows_expected, f"{result.label}: no {selector!r} contains {text!r}"
    assert "演示数据" in result.facts["bodyText"], f"{result.label}: no 演示数据 banner"
    assert result.screenshot.stat().st_size > 0


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page_type", PAGES, ids=PAGE_IDS)
def test_no_serious_accessibility_violations(visit, page_type, width):
    result = visit(page_type, width)
    serious = result.violations_of("serious", "critical")
    assert not serious, f"axe-core on {result.label}:\n{format_violations(serious)}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page_type", PAGES, ids=PAGE_IDS)
def test_nothing_from_other_hosts_and_no_errors(visit, page_type, width):
    result = visit(page_type, width)
    assert result.requests, f"{result.label}: no request was recorded"
    assert not result.foreign_requests, f"{result.label} requested: {result.foreign_requests}"
    assert not result.failed_responses, f"{result.label}: {result.failed_responses}"
    assert not result.console_errors, f"{result.label} logged: {result.console_errors}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page_type", PAGES, ids=PAGE_IDS)
def test_markup(visit, page_type, width):
    """One <h1>, the language, and nothing a `default-src 'self'` policy would block."""
    result = visit(page_type, width)
    facts = result.facts
    assert len(facts["h1"]) == 1, f"{result.label} has {len(facts['h1'])} <h1>: {facts['h1']}"
    assert facts["lang"] == "zh-Hans", f"{result.label}: <html lang={facts['lang']!r}>"
    assert facts["title"].strip(), f"{result.label}: empty <title>"
    assert not facts["inline"], f"{result.label}: " + "; ".join(facts["inline"])


@pytest.mark.parametrize("page_type", PAGES, ids=PAGE_IDS)
def test_fits_a_phone(visit, page_type):
    result = visit(page_type, PHONE_WIDTH)
    facts = result.facts
    # In mobile emulation an overflowing page widens window.innerWidth to fit, so the width
    # the window was opened with counts too.
    assert facts["scrollWidth"] <= min(facts["innerWidth"], PHONE_WIDTH), (
        f"{result.label} scrolls sideways: the page is {facts['scrollWidth']} px wide, "
        f"the window {facts['innerWidth']} px"
    )
    assert not facts["smallTargets"], (
        f"{result.label}: tap targets under {MIN_TARGET_PX} px tall:\n"
        + "\n".join(facts["smallTargets"])
    )


BAD_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>bad</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>p { color: red; }</style></head>
<body><h1>one</h1><h1>two</h1>
<nav><a href="/">small</a></nav>
<div style="width: 2000px">wide</div>
<img src="http://cdn.example.com/logo.png"><img src="/missing.png" alt="">
<script>console.error("boom")</script>
</body></html>
"""


def test_the_checks_catch_a_bad_page(chromium, tmp_path):
    """The measurements above find what they look for (a page served from a scratch folder)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "bad.html").write_text(BAD_PAGE, encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=site)
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page_type = PageType("bad", "/bad.html", ("h1", "one"))
        base_url = f"http://127.0.0.1:{server.server_port}"
        result = chromium.visit(base_url, page_type, PHONE_WIDTH, tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    facts = result.facts
    assert result.status == 200 and result.shows_expected
    assert result.foreign_requests == ["http://cdn.example.com/logo.png"]
    assert result.failed_responses == [f"404 {base_url}/missing.png"]
    assert any("boom" in error for error in result.console_errors)
    assert facts["h1"] == ["one", "two"] and facts["lang"] == "en"
    assert len(facts["inline"]) == 3  # <style>, style=, <script>
    assert facts["scrollWidth"] > PHONE_WIDTH
    assert len(facts["smallTargets"]) == 1 and "small" in facts["smallTargets"][0]
    assert "image-alt" in {v["id"] for v in result.violations_of("serious", "critical")}

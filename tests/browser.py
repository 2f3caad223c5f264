"""
Headless Chromium for the browser tests (tests/public/test_browser.py): one browser for the session,
and a page visit that gathers everything the tests assert on.

Playwright's sync API keeps an asyncio event loop running in the thread that starts it, and
Django refuses ORM calls in a thread with a running loop (SynchronousOnlyOperation). So Chromium
lives in a thread of its own: the tests hand it whole visits, and the main thread (pytest-django's
database fixtures, every other test module) never sees the loop.
"""

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

# Debian's Chromium. As root it needs --no-sandbox; the rest keep it off the (closed) network.
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE_WIDTH = 360
DESKTOP_WIDTH = 1280
VIEWPORT_HEIGHT = 800
MIN_TARGET_PX = 44

# Controls a resident taps to move around: buttons and form fields anywhere, links in
# navigation, breadcrumbs, filters and pagination. Links inside running text are exempt
# (WCAG 2.5.8 exception "inline").
TAP_TARGETS = ", ".join(
    [
        "button",
        "input:not([type=hidden])",
        "select",
        "textarea",
        "summary",
        "header a",
        "nav a",
        "[role=navigation] a",
        ".breadcrumbs a",
        "form a",
        "[class*=filter] a",
        "[class*=pagination] a",
    ]
)

# What the page looks like once rendered: read in the page, returned as plain data.
DOM_FACTS = """
({tapTargets, minTarget}) => {
  const describe = (el) => {
    const classes = [...el.classList].map((c) => "." + c).join("");
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim();
    return `<${el.tagName.toLowerCase()}${classes}> ${JSON.stringify(text.slice(0, 40))}`;
  };
  const inline = [];
  document.querySelectorAll("script:not([src])").forEach(
    (el) => inline.push(`inline <script>: ${el.textContent.trim().slice(0, 60)}`));
  document.querySelectorAll("style").forEach(
    (el) => inline.push(`<style> block: ${el.textContent.trim().slice(0, 60)}`));
  document.querySelectorAll("[style]").forEach(
    (el) => inline.push(`style="${el.getAttribute("style")}" on ${describe(el)}`));
  document.querySelectorAll("*").forEach((el) => {
    for (const attr of el.attributes) {
      if (attr.name.startsWith("on")) inline.push(`${attr.name}= handler on ${describe(el)}`);
    }
  });
  document.querySelectorAll("a[href^='javascript:' i]").forEach(
    (el) => inline.push(`javascript: link ${describe(el)}`));

  const visible = (el) => {
    if (!el.getClientRects().length) return false;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") return false;
    const box = el.getBoundingClientRect();
    // Moved off screen until focused, as a skip link is.
    return box.right > 0 && box.bottom > -window.scrollY;
  };
  const small = [];
  for (const el of new Set(document.querySelectorAll(tapTargets))) {
    if (!visible(el)) continue;
    // A checkbox or radio button is tapped through its label.
    const target = (el.type === "checkbox" || el.type === "radio") && el.closest("label")
      ? el.closest("label") : el;
    const box = target.getBoundingClientRect();
    if (box.height < minTarget) {
      small.push(`${describe(el)} is ${box.width.toFixed(0)}×${box.height.toFixed(1)} px`);
    }
  }
  return {
    h1: [...document.querySelectorAll("h1")].map((el) => el.innerText.trim()),
    lang: document.documentElement.getAttribute("lang"),
    title: document.title,
    inline,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    smallTargets: small,
    bodyText: document.body.innerText,
  };
}
"""


@dataclass(frozen=True)
class PageType:
    """One kind of public page: a URL to load and something only that page would show."""

    id: str
    path: str
    # (CSS selector, text): some element matching the selector contains the text.
    shows: tuple[str, str]
    status: int = 200


@dataclass
class Visit:
    page_type: PageType
    width: int
    url: str
    status: int | None
    screenshot: Path
    facts: dict
    shows_expected: bool
    requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    violations: list[dict] = field(default_factory=list)

    @property
    def label(self):
        return f"{self.page_type.id} at {self.width} px ({self.url})"

    def violations_of(self, *impacts):
        return [v for v in self.violations if v.get("impact") in impacts]


def same_origin(url, base_url):
    one, other = urlsplit(url), urlsplit(base_url)
    return (one.scheme, one.netloc) == (other.scheme, other.netloc)


def format_violations(violations, max_nodes=5):
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact')}): {violation.get('help')} "
            f"[{len(violation['nodes'])} node(s)] {violation.get('helpUrl', '')}"
        )
        for node in violation["nodes"][:max_nodes]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {node.get('target')} {node.get('html', '')[:160]}")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


class Browser:
    """Chromium, driven from a thread of its own (see the module docstring)."""

    def __init__(self, executable=CHROMIUM):
        self.executable = executable
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
        self._playwright = self._browser = self._axe = None

    def start(self):
        self._thread.submit(self._start).result()

    def stop(self):
        try:
            self._thread.submit(self._stop).result()
        finally:
            self._thread.shutdown()

    def visit(self, base_url, page_type, width, folder):
        return self._thread.submit(self._visit, base_url, page_type, width, folder).result()

    def _start(self):
        from axe_playwright_python.sync_playwright import Axe
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=str(self.executable), args=CHROMIUM_ARGS
            )
        except Exception:
            self._playwright.stop()
            raise
        self._axe = Axe()

    def _stop(self):
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()

    def _visit(self, base_url, page_type, width, folder):
        url = base_url + page_type.path
        phone = width <= PHONE_WIDTH
        context = self._browser.new_context(
            viewport={"width": width, "height": VIEWPORT_HEIGHT},
            device_scale_factor=2 if phone else 1,
            is_mobile=phone,
            has_touch=phone,
            locale="zh-CN",
            java_script_enabled=True,  # axe-core and the measurements need it; the site does not
        )
        requests, foreign, failed, console = [], [], [], []

        def route(route):
            # Nothing may leave for another host; such a request is recorded and never sent.
            request_url = route.request.url
            requests.append(request_url)
            if same_origin(request_url, base_url):
                route.continue_()
            else:
                foreign.append(request_url)
                route.abort("blockedbyclient")

        def on_console(message):
            if message.type != "error":
                return
            location = message.location.get("url", "")
            # Chromium logs the status of an error page; the 404 page is meant to have it.
            expected_document_error = (
                page_type.status >= 400
                and location == page.url
                and message.text.startswith("Failed to load resource")
            )
            if not expected_document_error:
                console.append(f"{message.text} ({location})")

        def on_response(response):
            document = response.request.is_navigation_request()
            if response.status >= 400 and not document:
                failed.append(f"{response.status} {response.url}")

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", on_console)
        page.on("pageerror", lambda error: console.append(f"uncaught: {error}"))
        page.on("response", on_response)
        try:
            response = page.goto(url, wait_until="load")
            # Before the screenshot: hiding the caret leaves style="" on text inputs.
            facts = page.evaluate(
                DOM_FACTS, {"tapTargets": TAP_TARGETS, "minTarget": MIN_TARGET_PX}
            )
            screenshot = folder / f"{page_type.id}-{width}.png"
            page.screenshot(path=str(screenshot), full_page=True)
            selector, text = page_type.shows
            shows_expected = any(
                text in element.inner_text() for element in page.query_selector_all(selector)
            )
            # Last: axe-core is injected into the page it checks.
            violations = self._axe.run(page).response["violations"]
        finally:
            context.close()
        (folder / f"{page_type.id}-{width}.axe.json").write_text(
            json.dumps(violations, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        return Visit(
            page_type=page_type,
            width=width,
            url=url,
            status=response.status if response else None,
            screenshot=screenshot,
            facts=facts,
            shows_expected=shows_expected,
            requests=requests,
            foreign_requests=foreign,
            failed_responses=failed,
            console_errors=console,
            violations=violations,
        )


# Every Content-Security-Policy violation the page causes, from its first byte: the listener is
# installed before any of the page's own code runs (Playwright's init scripts bypass the CSP).
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "(inline)"} at ` +
    `${event.sourceFile || "?"}:${event.lineNumber} ${event.sample || ""}`.trim()
  );
}, true);
"""


@dataclass
class Step:
    """One page of a walk through the admin: a path to open, or an action on the open page
    (called with Playwright's page, in the browser's thread) that ends on a new page."""

    label: str
    path: str | None = None
    action: object = None


@dataclass
class StepResult:
    label: str
    url: str
    status: int | None
    title: str
    csp_violations: list[str]
    console_errors: list[str]


def _walk(browser, base_url, username, password, steps, login_path):
    context = browser.new_context(viewport={"width": DESKTOP_WIDTH, "height": VIEWPORT_HEIGHT})
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    console = []
    page.on(
        "console",
        lambda message: (
            console.append(f"{message.text} ({message.location.get('url', '')})")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: console.append(f"uncaught: {error}"))
    results = []
    try:
        page.goto(base_url + login_path)
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("input[type=submit], button[type=submit]")
        if page.url.startswith(base_url + login_path):
            raise AssertionError(f"{username} could not sign in")
        for step in steps:
            console.clear()
            response = None
            if step.path is not None:
                response = page.goto(base_url + step.path, wait_until="load")
            else:
                with page.expect_navigation(wait_until="load") as navigation:
                    step.action(page)
                response = navigation.value
            # Scripts that run after load (calendars, inline formsets) get their moment.
            page.wait_for_timeout(150)
            results.append(
                StepResult(
                    label=step.label,
                    url=page.url,
                    status=response.status if response else None,
                    title=page.title(),
                    csp_violations=page.evaluate("window.__cspViolations || []"),
                    console_errors=list(console),
                )
            )
    finally:
        context.close()
    return results


def walk(chromium, base_url, username, password, steps, login_path="/admin/login/"):
    """Signs in through the admin's login form, then opens each step in the same session."""
    return chromium._thread.submit(
        _walk, chromium._browser, base_url, username, password, steps, login_path
    ).result()

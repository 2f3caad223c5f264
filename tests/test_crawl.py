"""
Every public address with malformed path parameters and query parameters (issue 7, hostile
input): a seeded crawl of at least MIN_REQUESTS requests through the test client. Not one
server error, and every refusal a clear one: a 400/404/405 HTML page in Chinese, or the API's
JSON error with a Chinese message. A 200 never carries a traceback.

The page cache is off (PUBLIC_PAGE_CACHE=False) so that every request runs its view; the plan,
items and reports are built once for the whole crawl.
"""

import datetime
import json
import random
import re
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from livelihood.evaluation import services as evaluation
from livelihood.models import (
    EvaluationRound,
    Feedback,
    Plan,
)
from livelihood.progress.selectors import month_end_moment

MIN_REQUESTS = 5000
SEED = 20241129
CJK = re.compile(r"[\u4e00-\u9fff]")

# What a careless, curious or hostile visitor puts in a parameter.
NASTY = [
    "",
    " ",
    "0",
    "-1",
    "-2024",
    "1.5",
    "1e9",
    "0x10",
    "99999999999999999999",
    "9" * 400,
    "NaN",
    "Infinity",
    "abc",
    "２０２４",
    "٢٠٢٤",
    "二〇二四",
    "\x00",
    "a\x00b",
    "\x7f\x1b[31m",
    "../../../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "%",
    "%%",
    "' OR '1'='1",
    "1; DROP TABLE livelihood_item;--",
    '"><script>alert(1)</script>',
    "{{ settings.SECRET_KEY }}",
    "{% debug %}",
    "\u202eevil",
    "\u200b",
    "😀" * 10,
    "\ud800",
    "a" * 5000,
    "2024-13",
    "2024-00",
    "2024-6",
    "24-06",
    "2024/06",
    "2024年6月",
    "0000-01",
    "9999-12",
    "-0001-01",
    "null",
    "undefined",
    "true",
    "[]",
    "{}",
]


def _random_text(rng: random.Random) -> str:
    """A random string: ASCII, CJK, controls, surrogates, combining marks, of any length."""
    pools = [
        (0x20, 0x7E),
        (0x00, 0x1F),
        (0x4E00, 0x9FFF),
        (0xFF10, 0xFF5A),
        (0x0300, 0x036F),
        (0x202A, 0x202E),
        (0x1F600, 0x1F64F),
        (0xD800, 0xDFFF),
    ]
    length = rng.choice([0, 1, 2, 5, 10, 40, 300])
    chars = []
    for _ in range(length):
        low, high = rng.choice(pools)
        chars.append(chr(rng.randint(low, high)))
    return "".join(chars)


def _value(rng: random.Random, valid: list[str]) -> str:
    roll = rng.random()
    if roll < 0.15 and valid:
        return rng.choice(valid)
    if roll < 0.65:
        return rng.choice(NASTY)
    if roll < 0.8 and valid:
        return rng.choice(valid) + rng.choice(NASTY)
    return _random_text(rng)


def _quote(value: str) -> str:
    """A path segment as a browser would send it; lone surrogates cannot be encoded as UTF-8,
    so they go as their replacement."""
    return quote(value.encode("utf-8", "surrogatepass").decode("utf-8", "replace"), safe="")


def _query(params: list[tuple[str, str]]) -> str:
    return urlencode(
        [(k, v.encode("utf-8", "surrogatepass").decode("utf-8", "replace")) for k, v in params]
    )


# ------------------------------------------------------------------------------
# The public addresses, from the URLconf itself
# ------------------------------------------------------------------------------
# Query parameters each view reads; every view also gets parameters it does not read.
READS = {
    "search": ["q", "domain", "unit", "status", "street"],
    "item-messages": ["page"],
    "api-items": ["domain", "unit"],
    "api-figures": ["month", "item", "street", "scope", "limit", "cursor"],
}
UNREAD = ["page", "format", "q", "year", "month", "lang", "callback", "id"]
PRIVATE_PREFIXES = ("admin", "manage", "exports")


def public_patterns():
    """(name, route) of every URL pattern outside the admin: livelihood/urls.py (pages,
    open data, API, feed) and the project's own (healthz)."""
    found = []

    def walk(patterns, prefix, namespace):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                if route.lstrip("^/").startswith(PRIVATE_PREFIXES) or entry.namespace == "admin":
                    continue
                walk(entry.url_patterns, route, entry.namespace or namespace)
            elif isinstance(entry, URLPattern):
                name = entry.name or route
                found.append((f"{namespace}:{name}" if namespace else name, route))

    walk(get_resolver().url_patterns, "", None)
    return found


PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


@pytest.fixture
def site(plan, domain, unit, street, make_item, make_indicator, report, milestone, make_staff):
    """A published plan with items, figures, a message and a published evaluation round."""
    first = make_item("1-1")
    make_item("1-2")
    count = make_indicator(first, "1000")
    rate = make_indicator(first, "95", kind="rate", unit="%")
    report(first, "2024-05", {count: "400", rate: "80"})
    report(first, "2024-06", {count: "500"}, streets={(count, street): "50"})
    milestone(first, datetime.date(2024, 9, 30))
    Feedback.objects.create(
        item=first,
        message="希望加快进度，谢谢。",
        state="published",
        published_at=datetime.datetime(2024, 6, 3, tzinfo=datetime.UTC),
        due_on=datetime.date(2024, 6, 10),
    )
    round_ = EvaluationRound.objects.create(
        plan=plan,
        kind="midyear",
        cutoff_month=datetime.date(2024, 6, 1),
        cutoff_at=month_end_moment(datetime.date(2024, 7, 1)),
    )
    round_.criteria.create(name="推进进度", kind="progress", weight=100, order=1)
    office = make_staff("office")
    evaluation.round_close(round_=round_, user=office)
    evaluation.round_publish(round_=round_, user=office)
    Plan.objects.create(
        year=2023,
        title="草稿",
        published=False,
        issued_on=datetime.date(2023, 4, 1),
        declared_item_count=1,
    )
    return {
        "year": ["2024", "2023", "1999", "0", "02024"],
        "number": ["1", "2", "0", "01"],
        "code": ["1-1", "1-2", "9-9", "1-1 ", "1-１"],
        "month": ["2024-06", "2024-05", "2024-13", "2024-00", "2023-06", "9999-12", "0000-01"],
        "dataset": ["items", "figures", "indicators", "nope"],
        "fmt": ["csv", "json"],
        "kind": ["midyear", "yearend", "nope"],
        "rest": ["nope", "plans/2024/nope", "../../etc"],
        "page": ["1", "2"],
        "domain": ["1"],
        "unit": [unit.code],
        "street": [street.code],
        "status": ["on_track", "overdue", "done"],
        "item": ["1-1"],
        "scope": ["district", "street"],
        "limit": ["1", "1000", "1001"],
        "cursor": ["Zjk"],
        "q": ["就业", "1-1"],
    }


def _path(rng, route, valid):
    """The route with each parameter replaced by a valid, nasty or random value."""

    def fill(match):
        converter, name = match.group(1) or "str", match.group(2)
        known = valid.get(name, valid.get("code"))
        value = _value(rng, known)
        if converter in ("int", "month", "format") and rng.random() < 0.5:
            value = rng.choice(known)  # past the converter, into the view
        return _quote(value)

    return "/" + PARAMETER.sub(fill, route)


def _clear_refusal(method, path, response) -> str | None:
    """Why `response` is not a clear answer, or None. A HEAD answer has no body to judge."""
    status = response.status_code
    content = b"" if response.streaming else response.content
    if status >= 500:
        return f"server error {status}"
    if b"Traceback" in content:
        return "a traceback in the page"
    if status in (200, 301, 302, 304) or method == "head":
        return None
    if status not in (400, 404, 405):
        return f"unexpected status {status}"
    if path.startswith("/api/"):
        try:
            message = json.loads(content)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            return f"{status} without the API's JSON error"
        return None if CJK.search(message) else f"{status} with a message not in Chinese"
    if status == 405 and not content:
        return None  # an empty 405 with its Allow header: nothing to read, nothing leaked
    text = content.decode("utf-8", "replace")
    return None if CJK.search(text) else f"{status} page not in Chinese"


@pytest.mark.django_db
def test_malformed_parameters_on_every_public_url_give_no_server_error(site, settings):
    settings.PUBLIC_PAGE_CACHE = False
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    rng = random.Random(SEED)
    client = Client(raise_request_exception=True)
    patterns = public_patterns()
    assert len(patterns) >= 30, patterns  # the crawl cannot silently lose its addresses
    problems, sent, statuses = [], 0, {}
    per_pattern = MIN_REQUESTS // len(patterns) + 20
    for name, route in patterns:
        reads = READS.get(name.split(":")[-1], [])
        for _ in range(per_pattern):
            path = _path(rng, route, site)
            params = [(key, _value(rng, site.get(key, []))) for key in reads if rng.random() < 0.7]
            if rng.random() < 0.3:
                params.append((rng.choice(UNREAD), _value(rng, [])))
            if params and rng.random() < 0.1:
                params.append(rng.choice(params))  # the same parameter twice
            url = path + ("?" + _query(params) if params else "")
            method = rng.choices(["get", "head", "post", "put", "delete"], [80, 8, 6, 3, 3])[0]
            if method in ("post", "put", "delete") and name.endswith(("-feedback", "-rate")):
                method = "get"  # the forms' posts are tests/test_properties.py's
            try:
                response = getattr(client, method)(url)
            except Exception as error:  # every failure is reported, with its URL
                problems.append((method, url[:200], repr(error)[:300]))
                sent += 1
                continue
            sent += 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            why = _clear_refusal(method, path, response)
            if why:
                problems.append((method, url[:200], why))
    print(f"crawl: {sent} requests over {len(patterns)} addresses, statuses {statuses}")
    assert sent >= MIN_REQUESTS
    assert problems == [], f"{len(problems)} of {sent}: {problems[:20]}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/2024/search/", "/2024/items/1-1/messages/", "/api/v1/plans/2024/figures"]
)
def test_too_many_parameters_is_a_clear_400(site, settings, client, path):
    """Over DATA_UPLOAD_MAX_NUMBER_FIELDS parameters: Django refuses the request (400); the
    page says so in Chinese, and the API in its JSON error."""
    settings.PUBLIC_PAGE_CACHE = False
    query = "&".join(f"q{number}=1" for number in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert _clear_refusal("get", path, response) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status"),
    [
        # A NUL character in an item's code: PostgreSQL refused to compare it (500).
        ("/2024/items/1-1%00/", 404),
        ("/2024/items/%00/feedback/", 404),
        ("/api/v1/plans/2024/items/1-1%00", 404),
        ("/api/v1/plans/2024/items?unit=a%00b", 400),
        ("/api/v1/plans/2024/figures?item=%00", 400),
        ("/api/v1/plans/2024/figures?street=%00", 400),
        # A line break: no API route matched, so the HTML 404 page answered the API.
        ("/api/v1/plans/2024%0A", 404),
        ("/api/v1/nothing%0Ahere", 404),
    ],
)
def test_nul_and_line_breaks_are_clear_refusals(site, settings, client, path, status):
    settings.PUBLIC_PAGE_CACHE = False
    response = client.get(path)
    assert response.status_code == status
    assert _clear_refusal("get", path, response) is None

"""
Mozilla HTTP Observatory's score for one response, computed from its headers and body, so that
tests/public/test_headers.py can grade every page type without the network.

Implemented from the Observatory's own source (github.com/mdn/mdn-http-observatory, read in
November 2026): the modifiers of src/grader/charts.js (SCORE_TABLE), the final sum of
src/scanner/index.js (start at 100; bonuses count only while the score without them is at
least MINIMUM_SCORE_FOR_EXTRA_CREDIT = 90), and the rules of each test in
src/analyzer/tests/: csp.js, cookies.js, cors.js, redirection.js, referrer-policy.js,
strict-transport-security.js, subresource-integrity.js, x-content-type-options.js,
x-frame-options.js and cross-origin-resource-policy.js.

Left out, because an in-process test cannot see them: the HSTS preload list (a site on it gets
+5 and passes the redirection test whatever it does), certificate validity, and CSP given in
<meta http-equiv> (the portal sends its policy as a header only).
"""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

MINIMUM_SCORE_FOR_EXTRA_CREDIT = 90
SIX_MONTHS = 15_552_000  # the Observatory's "white lie" for six months

DANGEROUSLY_BROAD = {"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*"}
DANGEROUSLY_BROAD |= {"https://*.*"}
UNSAFE_INLINE = {"'unsafe-inline'", "data:"}
NONCES_HASHES = ("'sha256-", "'sha384-", "'sha512-", "'nonce-")
PRIVATE_REFERRERS = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}
UNSAFE_REFERRERS = {
    "origin",
    "origin-when-cross-origin",
    "unsafe-url",
    "no-referrer-when-downgrade",
}
HTML_TYPES = {"text/html", "application/xhtml+xml"}


@dataclass
class Response:
    """What the Observatory looks at. `headers` maps lower-case names to lists of values;
    `http_redirect` is where the same path asked for over plain HTTP redirected to (None: it
    did not redirect); `origin_sent` the Origin header of the CORS probe."""

    url: str
    headers: dict[str, list[str]]
    body: str = ""
    http_redirect: str | None = None
    origin_sent: str = "https://http-observatory.security.mozilla.org"
    cors_headers: dict[str, list[str]] | None = None

    def all(self, name):
        return self.headers.get(name.lower(), [])

    def first(self, name):
        values = self.all(name)
        return values[0] if values else None


@dataclass
class Score:
    total: int
    modifiers: dict[str, int] = field(default_factory=dict)
    results: dict[str, str] = field(default_factory=dict)

    def explain(self):
        return ", ".join(
            f"{test}: {self.results[test]} ({mod:+d})" for test, mod in self.modifiers.items()
        )


def parse_csp(values):
    """Directive → set of sources, over every policy sent (comma-separated or repeated)."""
    policy = {}
    for raw in values:
        for one in raw.split(","):
            for directive in one.split(";"):
                parts = directive.strip().split()
                if not parts:
                    continue
                name = parts[0].lower()
                if not re.fullmatch(r"[a-z-]+", name):
                    raise ValueError(name)
                if name in policy:  # the first occurrence wins, as in browsers
                    continue
                policy[name] = {
                    source.lower() if source.startswith("'") else source for source in parts[1:]
                }
    return policy


def csp_test(response):
    values = response.all("Content-Security-Policy")
    if not values:
        return "csp-not-implemented", -25, None
    try:
        csp = parse_csp(values)
    except ValueError:
        return "csp-header-invalid", -25, None
    if not csp:
        return "csp-not-implemented", -25, None
    default = csp.get("default-src")
    script = set(csp.get("script-src") or default or {"*"})
    style = set(csp.get("style-src") or default or {"*"})
    objects = csp.get("object-src") or default or {"*"}
    for sources in (script, style):
        if any(s.startswith(NONCES_HASHES) for s in sources):
            sources.discard("'unsafe-inline'")
    https = urlsplit(response.url).scheme == "https"
    active = [
        s for d, v in csp.items() if d not in {"img-src", "media-src", "script-src"} for s in v
    ]
    active += list(script)
    passive = [s for d in ("img-src", "media-src") for s in (csp.get(d) or default or set())]
    if script & (DANGEROUSLY_BROAD | UNSAFE_INLINE) or set(objects) & DANGEROUSLY_BROAD:
        return "csp-implemented-with-unsafe-inline", -20, csp
    if https and any(s.startswith(("http:", "ftp:")) for s in active):
        return "csp-implemented-with-insecure-scheme", -20, csp
    if "'unsafe-eval'" in script | style:
        return "csp-implemented-with-unsafe-eval", -10, csp
    if https and any(s.startswith(("http:", "ftp:")) for s in passive):
        return "csp-implemented-with-insecure-scheme-in-passive-content-only", -10, csp
    if style & (DANGEROUSLY_BROAD | UNSAFE_INLINE):
        return "csp-implemented-with-unsafe-inline-in-style-src-only", 0, csp
    if default == {"'none'"}:
        return "csp-implemented-with-no-unsafe-default-src-none", 10, csp
    return "csp-implemented-with-no-unsafe", 5, csp


def hsts_test(response):
    if urlsplit(response.url).scheme != "https":
        return "hsts-not-implemented-no-https", -20
    header = response.first("Strict-Transport-Security")
    if header is None:
        return "hsts-not-implemented", -20
    if "," in header:
        return "hsts-header-invalid", -20
    max_age = None
    for parameter in (part.strip().lower() for part in header.split(";")):
        if parameter.startswith("max-age="):
            digits = re.match(r"\d+", parameter[8:].strip('"'))
            max_age = int(digits.group()) if digits else None
    if max_age is None:
        return "hsts-header-invalid", -20
    if max_age < SIX_MONTHS:
        return "hsts-implemented-max-age-less-than-six-months", -10
    return "hsts-implemented-max-age-at-least-six-months", 0


def parse_set_cookie(raw):
    name_value, *attributes = raw.split(";")
    cookie = {"name": name_value.split("=", 1)[0].strip(), "secure": False, "httponly": False}
    cookie["samesite"] = None
    for attribute in attributes:
        key, _, value = attribute.strip().partition("=")
        key = key.strip().lower()
        if key in {"secure", "httponly"}:
            cookie[key] = True
        elif key == "samesite":
            cookie["samesite"] = value.strip()
    return cookie


# Worst last: a worse finding replaces a better one (cookies.js, onlyIfWorse).
COOKIE_RESULTS = [
    ("cookies-without-secure-flag-but-protected-by-hsts", -5),
    ("cookies-without-secure-flag", -20),
    ("cookies-session-without-secure-flag-but-protected-by-hsts", -10),
    ("cookies-samesite-flag-invalid", -20),
    ("cookies-anticsrf-without-samesite-flag", -20),
    ("cookies-session-without-httponly-flag", -30),
    ("cookies-session-without-secure-flag", -40),
]


def cookies_test(response, hsts_passes):
    raw = response.all("Set-Cookie")
    if not raw:
        return "cookies-not-found", 0
    names = [name for name, _ in COOKIE_RESULTS]
    worst = -1

    def worse(result):
        nonlocal worst
        worst = max(worst, names.index(result))

    missing_samesite = False
    for cookie in map(parse_set_cookie, raw):
        key = cookie["name"].lower()
        session = "login" in key or "sess" in key
        samesite = cookie["samesite"]
        if samesite is not None and samesite.lower() not in {"lax", "strict", "none"}:
            worse("cookies-samesite-flag-invalid")
        if not cookie["secure"] and (samesite or "").lower() == "none":
            worse("cookies-samesite-flag-invalid")
        if not cookie["secure"]:
            worse(
                "cookies-without-secure-flag-but-protected-by-hsts"
                if hsts_passes
                else "cookies-without-secure-flag"
            )
        if "csrf" in key and not samesite:
            worse("cookies-anticsrf-without-samesite-flag")
        if session and not cookie["secure"]:
            worse(
                "cookies-session-without-secure-flag-but-protected-by-hsts"
                if hsts_passes
                else "cookies-session-without-secure-flag"
            )
        if session and not cookie["httponly"]:
            worse("cookies-session-without-httponly-flag")
        missing_samesite = missing_samesite or not samesite
    if worst >= 0:
        return COOKIE_RESULTS[worst]
    if missing_samesite:
        return "cookies-secure-with-httponly-sessions", 0
    return "cookies-secure-with-httponly-sessions-and-samesite", 5


def cors_test(response):
    headers = response.cors_headers if response.cors_headers is not None else response.headers
    acao = (headers.get("access-control-allow-origin") or [None])[0]
    if acao is None:
        return "cross-origin-resource-sharing-not-implemented", 0
    credentials = (headers.get("access-control-allow-credentials") or [""])[0]
    if acao.strip() == "*":
        return "cross-origin-resource-sharing-implemented-with-public-access", 0
    if acao == response.origin_sent and credentials.strip().lower() == "true":
        return "cross-origin-resource-sharing-implemented-with-universal-access", -50
    return "cross-origin-resource-sharing-implemented-with-restricted-access", 0


def redirection_test(response):
    if response.http_redirect is None:
        return "redirection-missing", -20
    target = urlsplit(response.http_redirect)
    if target.scheme != "https":
        return "redirection-not-to-https", -20
    if target.hostname != urlsplit(response.url).hostname:
        return "redirection-off-host-from-http", -5
    return "redirection-to-https", 0


def referrer_policy_test(response):
    values = response.all("Referrer-Policy")
    if not values:
        return "referrer-policy-not-implemented", 0
    known = [
        value.strip().lower()
        for value in ",".join(values).split(",")
        if value.strip().lower() in PRIVATE_REFERRERS | UNSAFE_REFERRERS
    ]
    policy = known[-1] if known else ""
    if policy in PRIVATE_REFERRERS:
        return "referrer-policy-private", 5
    if policy in UNSAFE_REFERRERS:
        return "referrer-policy-unsafe", -5
    return "referrer-policy-header-invalid", -5


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs))


def sri_test(response):
    mime = (response.first("Content-Type") or "").split(";")[0].strip().lower()
    if mime and mime not in HTML_TYPES:
        return "sri-not-implemented-response-not-html", 0
    parser = _Scripts()
    parser.feed(response.body)
    if not parser.scripts:
        return "sri-not-implemented-but-no-scripts-loaded", 0
    page = urlsplit(response.url)
    worst, bonus = 0, None
    for script in parser.scripts:
        src = script.get("src")
        if not src:
            continue
        target = urlsplit(src)
        relative = not target.scheme and not target.netloc
        protocol_relative = src.startswith("//")
        same_site = relative or (target.hostname or "").endswith(_site(page.hostname))
        secure_scheme = target.scheme == "https" or (relative and page.scheme == "https")
        if relative or (same_site and not protocol_relative):
            if script.get("integrity") and secure_scheme and bonus is None:
                bonus = "sri-implemented-and-all-scripts-loaded-securely"
            continue
        if script.get("integrity") and not secure_scheme:
            worst = min(worst, -20)
        elif not script.get("integrity"):
            worst = min(worst, -5 if secure_scheme else -50)
        else:
            bonus = bonus or "sri-implemented-and-external-scripts-loaded-securely"
    if worst == -50:
        return "sri-not-implemented-and-external-scripts-not-loaded-securely", -50
    if worst == -20:
        return "sri-implemented-but-external-scripts-not-loaded-securely", -20
    if worst == -5:
        return "sri-not-implemented-but-external-scripts-loaded-securely", -5
    if bonus:
        return bonus, 5
    return "sri-not-implemented-but-all-scripts-loaded-from-secure-origin", 0


def _site(hostname):
    """The registrable domain, roughly (two labels): enough for a single-host portal."""
    return ".".join((hostname or "").split(".")[-2:])


def x_content_type_options_test(response):
    header = response.first("X-Content-Type-Options")
    if header is None:
        return "x-content-type-options-not-implemented", -5
    if header.strip().lower() == "nosniff":
        return "x-content-type-options-nosniff", 0
    return "x-content-type-options-header-invalid", -5


def x_frame_options_test(response, csp):
    if csp and "frame-ancestors" in csp:
        return "x-frame-options-implemented-via-csp", 5
    header = response.first("X-Frame-Options")
    if header is None:
        return "x-frame-options-not-implemented", -20
    value = header.strip().lower()
    if value in {"deny", "sameorigin"}:
        return "x-frame-options-sameorigin-or-deny", 0
    if value.startswith("allow-from"):
        return "x-frame-options-allow-from-origin", 0
    return "x-frame-options-header-invalid", -20


def corp_test(response):
    header = response.first("Cross-Origin-Resource-Policy")
    if header is None:
        return "cross-origin-resource-policy-not-implemented", 0
    value = header.strip().lower()
    if value in {"same-origin", "same-site"}:
        return f"cross-origin-resource-policy-implemented-with-{value}", 10
    if value == "cross-origin":
        return "cross-origin-resource-policy-implemented-with-cross-origin", 0
    return "cross-origin-resource-policy-header-invalid", -5


def score(response: Response) -> Score:
    """The Observatory's score for one response (100 + modifiers, bonuses only from 90 up)."""
    csp_result, csp_modifier, csp = csp_test(response)
    hsts_result, hsts_modifier = hsts_test(response)
    findings = {
        "content-security-policy": (csp_result, csp_modifier),
        "cookies": cookies_test(response, hsts_passes=hsts_modifier == 0),
        "cross-origin-resource-sharing": cors_test(response),
        "redirection": redirection_test(response),
        "referrer-policy": referrer_policy_test(response),
        "strict-transport-security": (hsts_result, hsts_modifier),
        "subresource-integrity": sri_test(response),
        "x-content-type-options": x_content_type_options_test(response),
        "x-frame-options": x_frame_options_test(response, csp),
        "cross-origin-resource-policy": corp_test(response),
    }
    modifiers = {test: modifier for test, (_, modifier) in findings.items()}
    with_bonus = 100 + sum(modifiers.values())
    uncurved = 100 + sum(m for m in modifiers.values() if m < 0)
    total = with_bonus if uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT else uncurved
    return Score(
        total=max(total, 0),
        modifiers=modifiers,
        results={test: result for test, (result, _) in findings.items()},
    )

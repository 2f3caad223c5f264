"""`make run` serves as production does (issue 15): the server `make serve` starts, on a fresh
database, answers a mistyped address with the portal's own Chinese 404 page and a server
error with the Chinese 500 page, both with the Content-Security-Policy and the other security
headers, never Django's English technical pages or a traceback; the secret key it generates is
readable by its owner only."""

import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.builders import ROOT

PYTHON = Path(sys.executable)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(tmp_path, static_root) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_DEBUG", "DJANGO_SECRET_KEY")
        and not key.startswith(("PYTEST_", "MAKE"))
    }
    env.update(SQLITE_PATH=str(tmp_path / "db.sqlite3"), STATIC_ROOT=str(static_root))
    return env


def _manage(env, *args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


class Server:
    """`make serve` in its own process group, on a free port."""

    def __init__(self, env, key_file):
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "serve",
                f"PORT={self.port}",
                "WORKERS=1",
                f"SECRET_KEY_FILE={key_file}",
                f"VENV={PYTHON.parent.parent}",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if _get(self.url("/healthz"))[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        pytest.fail(f"make serve did not answer: {self.process.stderr.read().decode()[-2000:]}")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The portal as `make run` serves it: migrated, static files collected as production
    collects them, DEBUG off."""
    tmp_path = tmp_path_factory.mktemp("front-door")
    static_root = tmp_path / "static"
    env = _environment(tmp_path, static_root)
    key_file = tmp_path / "var" / "secret_key"
    _manage(env, "migrate", "--noinput", "--verbosity", "0")
    _manage(
        {**env, "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "collect-only"},
        "collectstatic",
        "--noinput",
        "--verbosity",
        "0",
    )
    server = Server(env, key_file)
    yield server, env, key_file, tmp_path
    server.stop()


def _assert_protected(headers):
    assert "default-src 'self'" in headers.get("Content-Security-Policy", "")
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, name


def test_a_mistyped_address_gets_the_portals_chinese_404_page(served):
    server, *_ = served
    status, headers, body = _get(server.url("/no-such-page/"))
    assert status == 404
    assert '<html lang="zh-Hans">' in body
    assert "页面不存在" in body
    assert "URLconf" not in body and "Page not found" not in body
    _assert_protected(headers)


def test_the_generated_secret_key_is_readable_by_its_owner_only(served):
    _, _, key_file, _ = served
    mode = stat.S_IMODE(key_file.stat().st_mode)
    assert mode == 0o600
    assert len(key_file.read_text().strip()) >= 50


def test_a_server_error_gets_the_chinese_500_page_without_a_traceback(served):
    """A release served without its collected static files (the manifest is missing) fails on
    every page: the visitor reads the Chinese 500 page, not what went wrong."""
    _, env, key_file, tmp_path = served
    empty = tmp_path / "no-static"
    empty.mkdir()
    broken = Server({**env, "STATIC_ROOT": str(empty)}, key_file)
    try:
        status, headers, body = _get(broken.url("/about/"))
    finally:
        broken.stop()
    assert status == 500
    assert "系统暂时出错" in body
    assert "Traceback" not in body and "manifest" not in body
    _assert_protected(headers)

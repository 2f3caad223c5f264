"""/readyz answers 200 only while the database and the cache answer; /healthz always."""

import socket

import pytest
from django.db import OperationalError, connections

pytestmark = pytest.mark.django_db

REDIS_DB = 13  # this part's own Redis database


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_cache(url):
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def test_ready_when_database_and_cache_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-store" in response["Cache-Control"]


def test_not_ready_when_the_database_fails(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    text = response.content.decode()
    assert "数据库 default 无法查询" in text
    assert "refused" not in text  # the error is logged, not shown
    assert "no-store" in response["Cache-Control"]
    # The process itself is up: liveness does not touch the database.
    assert client.get("/healthz").status_code == 200


def test_not_ready_when_the_cache_does_not_answer(client, settings):
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{closed_port()}/{REDIS_DB}")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content.decode().strip() == "未就绪：缓存 default 无法读写"


@pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379")
def test_ready_with_redis_as_the_cache(client, settings):
    settings.CACHES = redis_cache(f"redis://127.0.0.1:6379/{REDIS_DB}")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.content == b"ok"

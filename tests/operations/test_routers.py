"""With a read replica (DATABASE_REPLICA_URL) residents' pages read from it; the admin, form
submissions and staff read and write the primary (livelihood/operations/routers.py)."""

from decimal import Decimal

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from livelihood.models import Feedback
from livelihood.operations import publication
from livelihood.operations.routers import REPLICA


@pytest.fixture(scope="module", autouse=True)
def replica_alias(django_db_setup):
    """A `replica` alias on the test database itself, as DATABASE_REPLICA_URL makes one (a
    test mirror of `default`), for this module only. It must exist before each test's
    database set-up, which refuses aliases it does not know."""
    settings_dict = dict(connections["default"].settings_dict)
    settings_dict["TEST"] = {**settings_dict["TEST"], "MIRROR": "default"}
    connections.settings[REPLICA] = settings_dict
    yield
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]
    publication.forget_recent()


# A separate connection sees only what the test has committed, hence transaction=True.
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@pytest.fixture
def replica():
    publication.forget_recent()
    return connections[REPLICA]


@pytest.fixture
def item(make_item, make_indicator, report):
    item = make_item("1-1", title="城镇新增就业")
    indicator = make_indicator(item, "1.15", unit="万人", name="城镇就业人员新增")
    report(item, "2024-06", {indicator: Decimal("3600")})
    return item


def queries(client_call):
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as copy,
    ):
        response = client_call()
    return response, len(primary), len(copy)


@pytest.mark.parametrize("page", ["home", "item", "download", "api"])
def test_a_public_page_reads_only_from_the_replica(replica, item, client, page):
    url = {
        "home": reverse("livelihood:home"),
        "item": item.get_absolute_url(),
        "download": reverse("livelihood:download", args=[2024, "figures", "csv"]),
        "api": reverse("livelihood:api-index"),
    }[page]
    response, primary, copy = queries(lambda: client.get(url))
    assert response.status_code == 200
    assert response.streaming == (page == "download")
    if response.streaming:  # the rows are read while the answer is sent
        with (
            CaptureQueriesContext(connections["default"]) as streamed_primary,
            CaptureQueriesContext(connections[REPLICA]) as streamed_copy,
        ):
            body = b"".join(response.streaming_content)
        assert b"3600" in body
        primary += len(streamed_primary)
        copy += len(streamed_copy)
    assert copy > 0
    assert primary == 0


def test_the_cached_page_reads_the_version_from_the_replica(replica, item, client, settings):
    settings.PUBLIC_VERSION_RECHECK_SECONDS = 0
    client.get(reverse("livelihood:home"))
    response, primary, copy = queries(lambda: client.get(reverse("livelihood:home")))
    assert response.headers["X-Page-Cache"] == "hit"
    assert (primary, copy) == (0, 1)


def test_the_admin_reads_from_the_primary(replica, item, make_staff):
    staff = Client()
    staff.force_login(make_staff("office"))
    url = reverse("admin:livelihood_item_changelist")
    response, primary, copy = queries(lambda: staff.get(url))
    assert response.status_code == 200
    assert "城镇新增就业" in response.content.decode()
    assert primary > 0
    assert copy == 0


def test_a_signed_in_officer_sees_public_pages_from_the_primary(replica, item, make_staff):
    staff = Client()
    staff.force_login(make_staff("office"))
    response, primary, copy = queries(lambda: staff.get(item.get_absolute_url()))
    assert response.status_code == 200
    assert primary > 0
    assert copy == 0


def test_a_feedback_post_reads_and_writes_the_primary(replica, item, client):
    url = reverse("livelihood:item-feedback", args=[2024, item.code])
    response, primary, copy = queries(
        lambda: client.post(url, {"message": "希望培训安排在周末，方便上班族参加。"})
    )
    assert response.status_code == 302
    assert Feedback.objects.get().state == "pending"
    assert primary > 0
    assert copy == 0

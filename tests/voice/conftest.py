"""What the residents' voice tests share: the item residents write about and rate, and a
later plan whose items must not mix with this one's."""

import datetime

import pytest

from livelihood.models import Plan


@pytest.fixture
def item(make_item):
    return make_item("1-1", title="城镇新增就业")


@pytest.fixture
def later(db):
    """The 2025 plan, without domains or items."""
    return Plan.objects.create(
        year=2025,
        title="2025",
        document_number="x",
        issued_on=datetime.date(2025, 3, 1),
        declared_item_count=50,
    )

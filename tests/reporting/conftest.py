"""The report a clerk of the unit fills in: what the workflow and the report form tests share."""

import pytest


@pytest.fixture
def item(make_item):
    return make_item(title="城镇新增就业")


@pytest.fixture
def clerk(make_staff, unit):
    return make_staff("clerk", unit, first_name="张敏")

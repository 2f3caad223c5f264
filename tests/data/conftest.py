"""The staff the open-data tests look for in every download (and must never find there)."""

import pytest


@pytest.fixture
def clerk(make_staff, unit):
    return make_staff("clerk-zhang", unit, first_name="张敏")


@pytest.fixture
def office(make_staff):
    return make_staff("office-wang", first_name="王芳")

"""
Staff pages at any size (issue 16): the admin pages a lead-unit clerk and the coordinating
office use every month run the same number of queries on a small generated data set as on a
larger one (2 years × 40 items × 3 indicators × 12 months × 5 streets), for each role, and
each role sees its own rows: the office every unit's, a clerk their unit's only.

As in test_scale.py, the two data sets are generated once for the module, committed,
measured and removed again. bench/admin.py times the same pages on ten years.
"""

from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from livelihood.accounts.models import StaffProfile
from livelihood.accounts.roles import roles_ensure
from livelihood.devdata import scale
from livelihood.plan.models import LeadUnit
from livelihood.reporting.models import MonthlyReport

SMALL = scale.Spec(years=1, items=2, indicators=1, months=2, streets=2)
LARGE = scale.Spec(years=2, items=40, indicators=3, months=12, streets=5)
UNIT = f"{scale.CODE_PREFIX}u01"  # the clerk's: the first item of every year is its
ROLES = ("office", "clerk")


def admin_url(name, *args):
    return reverse(f"admin:livelihood_{name}", args=args)


def pages(year, report):
    """Page name → URL on the latest generated year; `report` is the clerk's unit's."""
    reports = admin_url("monthlyreport_changelist")
    return {
        "reports": reports,
        "reports-searched": f"{reports}?q=1-1",
        "reports-one-month": f"{reports}?month__year={year}&month__month=1",
        "reports-by-unit": f"{reports}?item__lead_unit__id__exact={report.item.lead_unit_id}",
        "figures": admin_url("figure_changelist"),
        "figures-approved": admin_url("figure_changelist") + "?report__state__exact=approved",
        "board": admin_url("monthlyreport_board"),
        "report-form": admin_url("monthlyreport_change", report.pk),
        "items": admin_url("item_changelist"),
    }


@dataclass
class Seen:
    status: int = 0
    queries: int = 0
    units: set = field(default_factory=set)  # the lead units of the rows listed
    filter_units: set = field(default_factory=set)  # the units the unit filter offers
    count: int = 0  # a change list's rows, all pages


def rows_units(name, context) -> set:
    if name == "board":
        return {item.lead_unit.code for item, _ in context["table"]}
    if name == "report-form":
        return {context["report"].item.lead_unit.code}
    rows = context["cl"].result_list
    if name.startswith("figures"):
        return {f.report.item.lead_unit.code for f in rows}
    if name == "items":
        return {i.lead_unit.code for i in rows}
    return {r.item.lead_unit.code for r in rows}


def filter_units(context) -> set:
    if "cl" not in context:
        return set()
    units = set()
    for spec in context["cl"].filter_specs:
        if getattr(spec, "field_path", "") == "item__lead_unit":
            units |= {LeadUnit.objects.get(pk=pk).code for pk, _ in spec.lookup_choices}
    return units


def measure(clients, report, foreign) -> dict:
    year = report.month.year
    found = {}
    for role, client in clients.items():
        for name, path in pages(year, report).items():
            client.get(path)  # once first: sessions and caches settle
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path)
            seen = found[name, role] = Seen(response.status_code, len(captured))
            if response.status_code == 200:
                seen.units = rows_units(name, response.context)
                seen.filter_units = filter_units(response.context)
                if "cl" in response.context:
                    seen.count = response.context["cl"].result_count
        response = client.get(admin_url("monthlyreport_change", foreign.pk))
        found["foreign-report-form", role] = Seen(response.status_code)
    return found


def staff():
    office_group, unit_group = roles_ensure()
    office = User.objects.create_user("scale-office", is_staff=True)
    office.groups.add(office_group)
    StaffProfile.objects.create(user=office, lead_unit=None)
    clerk = User.objects.create_user("scale-clerk", is_staff=True)
    clerk.groups.add(unit_group)
    StaffProfile.objects.create(user=clerk, lead_unit=LeadUnit.objects.get(code=UNIT))
    clients = {}
    for role, user in (("office", office), ("clerk", clerk)):
        clients[role] = Client()
        clients[role].force_login(user)
    return clients


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker):
    from tests.devdata.test_scale import is_test_database

    results = {}
    with django_db_blocker.unblock():
        assert is_test_database(), connection.settings_dict["NAME"]
        try:
            for size, spec in (("small", SMALL), ("large", LARGE)):
                scale.scale_generate(spec)
                latest = MonthlyReport.objects.filter(item__plan__year=spec.last_year)
                report = latest.filter(item__lead_unit__code=UNIT).order_by("-month").first()
                foreign = latest.exclude(item__lead_unit__code=UNIT).first()
                results[size] = measure(staff(), report, foreign)
                User.objects.filter(username__startswith="scale-").delete()
                scale.scale_remove()
        finally:
            User.objects.filter(username__startswith="scale-").delete()
            scale.scale_remove()
    return results


PAGES = [
    "reports",
    "reports-searched",
    "reports-one-month",
    "reports-by-unit",
    "figures",
    "figures-approved",
    "board",
    "report-form",
    "items",
]


def describe(measured, key):
    return ", ".join(f"{size}: {measured[size][key]}" for size in ("small", "large"))


@pytest.mark.django_db  # for the test database `measured` writes to
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", PAGES)
def test_staff_page_runs_the_same_queries_on_a_small_and_a_large_data_set(measured, name, role):
    small, large = measured["small"][name, role], measured["large"][name, role]
    assert small.status == large.status == 200, describe(measured, (name, role))
    assert small.queries == large.queries, describe(measured, (name, role))


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_a_clerk_sees_only_their_units_rows_and_the_office_every_units(measured, name):
    clerk, office = measured["large"][name, "clerk"], measured["large"][name, "office"]
    assert clerk.units == {UNIT}, describe(measured, (name, "clerk"))
    if name in ("report-form", "reports-by-unit", "reports-searched"):
        assert office.units == {UNIT}  # one unit's report, or unit 01's item 1-1
    elif name.startswith("figures"):
        # A page holds the first two reports' figures, both of item 1-1: count them instead.
        assert office.count > clerk.count > 0
    else:
        assert UNIT in office.units and len(office.units) > 1, office


@pytest.mark.django_db
def test_the_unit_filter_offers_a_clerk_no_other_unit_and_the_office_every_unit(measured):
    for size in ("small", "large"):
        # One choice is no choice: Django shows no filter then.
        assert measured[size]["reports", "clerk"].filter_units <= {UNIT}
        offered = measured[size]["reports", "office"].filter_units
        items = LARGE.items if size == "large" else SMALL.items
        assert len(offered) == min(items, scale.UNIT_COUNT), offered


@pytest.mark.django_db
def test_another_units_report_form_is_not_found_for_a_clerk(measured):
    """The change view answers a foreign row as "not found" (a redirect to the admin index,
    accounts/scope.py); the office opens it."""
    assert measured["large"]["foreign-report-form", "clerk"].status == 302
    assert measured["large"]["foreign-report-form", "office"].status == 200

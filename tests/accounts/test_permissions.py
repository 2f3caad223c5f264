"""Lead-unit staff reach their own unit's rows only, on every path the admin registers.

The matrix: five units (twenty ordered pairs), each with an item, an indicator, a planned
value, a report, a figure, a milestone and a published resident's message whose texts carry
the unit's tag (ZQAAAA … ZQEEEE). Every
URL of every ModelAdmin (and the site's own views) is walked from `admin.site.get_urls()`, so
a view added later (the reporting board, the review queue) is covered without listing it
here. For each viewer and each other unit the test asserts that no page shows the other
unit's tag, and that nothing of the other unit changed (rows and history rows). A redirect to
the admin index or the login, a 403 or a 404 are all fine answers; a 200 that shows the
other unit's data is not.

Positive controls show that the requests are real: the same requests aimed at the viewer's
own rows show them, and an add with the viewer's own item succeeds.
"""

import datetime
import itertools
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import URLPattern, reverse

from livelihood.accounts import roles
from livelihood.accounts.scope import UNIT_PATHS
from livelihood.models import (
    Domain,
    Feedback,
    Figure,
    Indicator,
    Item,
    LeadUnit,
    Milestone,
    MonthlyReport,
    Plan,
    PlannedValue,
    StaffProfile,
    Street,
)
from tests.admin_forms import body, form_payload

pytestmark = pytest.mark.django_db

LETTERS = "ABCDE"
CONFINED = tuple(UNIT_PATHS)


def tag(letter):
    # Six characters: a random CSRF token on the page holds a given three-letter tag in about
    # one page in 4,000, which made the matrix fail now and then; this one, practically never.
    return f"ZQ{letter * 4}"


@pytest.fixture
def world():
    """Five units, each with one row of every confined model, a clerk, and a client."""
    plan = Plan.objects.create(
        year=2024,
        title="瑶海区2024年50项民生实事",
        document_number="瑶民生办〔2024〕1号",
        issued_on=datetime.date(2024, 4, 24),
        declared_item_count=50,
    )
    domain = Domain.objects.create(plan=plan, number=1, name="就业创业")
    street = Street.objects.create(code="mingguanglu", name="明光路街道", kind="subdistrict")
    _, unit_group = roles.roles_ensure()
    units = {}
    for number, letter in enumerate(LETTERS, start=1):
        unit = LeadUnit.objects.create(code=f"u{letter.lower()}", name=f"单位UN{letter}")
        item = Item.objects.create(
            plan=plan,
            domain=domain,
            code=f"{tag(letter)}-1",
            title=f"事项{tag(letter)}",
            lead_unit=unit,
            order=number,
        )
        indicator = Indicator.objects.create(
            item=item,
            number=1,
            name=f"指标{tag(letter)}",
            kind="count",
            comparator="gte",
            target=Decimal("100"),
            unit="人",
        )
        planned = PlannedValue.objects.create(
            indicator=indicator, month=datetime.date(2024, 6, 1), value=Decimal("50")
        )
        report = MonthlyReport.objects.create(
            item=item,
            month=datetime.date(2024, 6, 1),
            state="draft",
            narrative=f"进展{tag(letter)}",
        )
        figure = Figure.objects.create(
            report=report, indicator=indicator, value=Decimal("40"), note=f"备注{tag(letter)}"
        )
        milestone = Milestone.objects.create(
            item=item, number=1, title=f"节点{tag(letter)}", planned_on=datetime.date(2024, 9, 30)
        )
        # Published (routed to the unit), with a contact only the office may see.
        feedback = Feedback.objects.create(
            item=item,
            message=f"留言{tag(letter)}",
            name=f"称呼{tag(letter)}",
            contact=f"电话{tag(letter)}",
            state="published",
            published_at=datetime.datetime(2024, 6, 3, 9, tzinfo=datetime.UTC),
            due_on=datetime.date(2024, 6, 10),
        )
        user = User.objects.create_user(f"clerk-{letter.lower()}", is_staff=True)
        user.groups.add(unit_group)
        StaffProfile.objects.create(user=user, lead_unit=unit)
        # A refused lookup is a 400 answer, as a browser would get, not an exception.
        client = Client(raise_request_exception=False)
        client.force_login(user)
        units[letter] = {
            "unit": unit,
            "user": user,
            "client": client,
            Item: item,
            Indicator: indicator,
            PlannedValue: planned,
            MonthlyReport: report,
            Figure: figure,
            Milestone: milestone,
            Feedback: feedback,
        }
    return {"plan": plan, "domain": domain, "street": street, "units": units}


# ------------------------------------------------------------------------------
# What the admin registers
# ------------------------------------------------------------------------------
def model_admin_urls():
    """(model, model admin, URL pattern) for every URL every ModelAdmin registers."""
    for model, model_admin in admin.site._registry.items():
        for pattern in model_admin.get_urls():
            yield model, model_admin, pattern


def site_urls():
    """The site's own views (index, app index, autocomplete, password change …)."""
    for entry in admin.site.get_urls():
        if isinstance(entry, URLPattern):
            yield entry


def kind_of(model, pattern) -> str:
    """What a model admin's URL does, from its name (None: the old <id>/ redirect)."""
    opts = model._meta
    prefix = f"{opts.app_label}_{opts.model_name}_"
    name = pattern.name or ""
    if not name:
        return "redirect"
    suffix = name.removeprefix(prefix)
    known = {"changelist", "add", "change", "delete", "history", "simple_history"}
    return suffix if suffix in known else "custom"


def fill(pattern, *values) -> str:
    """A concrete path for a URL pattern, its parameters taken from `values` in order."""
    regex = pattern.pattern.regex.pattern
    path = regex.lstrip("^").rstrip("$").replace("\\Z", "")
    values = iter(values)
    path = re.sub(r"\(\?P<[^>]+>[^)]*\)|\([^)]*\)", lambda _: str(next(values)), path)
    return path.replace("\\", "")


def admin_url(model, path: str) -> str:
    index = reverse("admin:index")
    if model is None:
        return index + path
    return f"{index}{model._meta.app_label}/{model._meta.model_name}/{path}"


# ------------------------------------------------------------------------------
# What may not be seen or changed
# ------------------------------------------------------------------------------
def fingerprint(world, letters) -> list:
    """Every field of the units' rows and of their history rows."""
    units = [world["units"][letter]["unit"] for letter in letters]
    rows = []
    for model, path in UNIT_PATHS.items():
        queryset = model._default_manager.filter(**{f"{path}__in": units}).order_by("pk")
        rows.append(list(queryset.values()))
        pks = list(queryset.values_list("pk", flat=True))
        rows.append(model.history.filter(id__in=pks).count())
        rows.append(model._default_manager.count())
    return rows


class Leak(AssertionError):
    pass


def check(response, foreign, what, *, units_too=True):
    """The response shows none of the foreign units' tags (nor their names on a page about
    confined rows)."""
    text = body(response)
    assert response.status_code in (200, 301, 302, 400, 403, 404, 405), (
        f"{what}: HTTP {response.status_code}"
    )
    for letter in foreign:
        if tag(letter) in text:
            raise Leak(f"{what}: shows {tag(letter)} (HTTP {response.status_code})")
        if units_too and f"单位UN{letter}" in text:
            raise Leak(f"{what}: shows unit UN{letter} (HTTP {response.status_code})")


# ------------------------------------------------------------------------------
# The walk
# ------------------------------------------------------------------------------
def autocomplete_sources():
    """(app_label, model_name, field_name) of every relation to a confined model."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and not field.auto_created and field.remote_field:
                if field.remote_field.model in CONFINED:
                    yield model._meta.app_label, model._meta.model_name, field.name


def walk(world, viewer, foreign, seen_kinds):
    """Every admin URL as `viewer`, aimed at each of the `foreign` units' rows."""
    own = world["units"][viewer]
    client = own["client"]
    others = [world["units"][letter] for letter in foreign]

    for model, model_admin, pattern in model_admin_urls():
        kind = kind_of(model, pattern)
        seen_kinds.add((model.__name__, kind))
        confined = model in CONFINED
        what = f"{viewer} {model.__name__} {kind}"
        if kind == "changelist":
            url = admin_url(model, "")
            base = [
                "",
                "?_popup=1&_to_field=id",
                "?_popup=1&_to_field=id&q=ZQ",
                "?q=ZQ",
                "?all=",
            ]
            for other in others:
                base += [f"?{param}={other['unit'].pk}" for param in unit_filters(model_admin)]
            for query in base:
                check(client.get(url + query), foreign, f"{what} {query}", units_too=confined)
            if confined:
                selected = [str(other[model].pk) for other in others]
                for action in model_admin.get_actions(_request_for(own["user"])) or {}:
                    check(
                        client.post(
                            url,
                            {
                                "action": action,
                                "_selected_action": selected,
                                "post": "yes",
                                "index": "0",
                                "reason": "矩阵测试",
                            },
                        ),
                        foreign,
                        f"{what} action {action}",
                    )
        elif kind == "add":
            url = admin_url(model, "add/")
            check(client.get(url), foreign, what, units_too=confined)
            for other in others:
                data = foreign_payload(model, other)
                if data:
                    check(client.post(url, data), foreign, f"{what} POST", units_too=confined)
        elif kind == "custom":
            params = len(pattern.pattern.regex.groupindex) or pattern.pattern.regex.groups
            for other in others:
                targets = [other.get(model, other[Item]).pk] * params
                url = admin_url(model, fill(pattern, *targets))
                query = (
                    f"?unit={other['unit'].code}&lead_unit={other['unit'].pk}"
                    f"&item={other[Item].pk}&q=ZQ"
                )
                check(client.get(url), foreign, what)
                check(client.get(url + query), foreign, f"{what} {query}")
        elif confined:
            for other in others:
                obj = other[model]
                version = obj.history.order_by("history_id").first().history_id
                url = admin_url(model, fill(pattern, obj.pk, version))
                check(client.get(url), foreign, f"{what} GET")
                if kind in ("change", "delete", "simple_history"):
                    payload = own_payload(world, viewer, model, kind)
                    check(client.post(url, payload), foreign, f"{what} POST")
        else:
            # Plan-level rows (plans, domains, units, streets, staff, accounts): no unit's
            # data lives there, but none may show through either.
            for obj in model._default_manager.all()[:1]:
                url = admin_url(model, fill(pattern, obj.pk, 1))
                check(client.get(url), foreign, f"{what} GET", units_too=False)
                check(client.post(url, {"post": "yes"}), foreign, what, units_too=False)

    for pattern in site_urls():
        name = pattern.name or ""
        if name in ("logout", "login"):
            continue
        if name == "app_list":
            for label in ("livelihood", "auth", "axes", "simple_history"):
                check(client.get(admin_url(None, f"{label}/")), foreign, f"{viewer} app {label}")
            continue
        if name == "view_on_site":
            continue  # a redirect to the public page; shows nothing itself
        if pattern.pattern.regex.groups:
            continue
        url = admin_url(None, fill(pattern))
        check(client.get(url), foreign, f"{viewer} site {name}", units_too=False)

    for app_label, model_name, field_name in autocomplete_sources():
        url = reverse("admin:autocomplete")
        for term in ("", "ZQ"):
            response = client.get(
                url,
                {"app_label": app_label, "model_name": model_name, "field_name": field_name}
                | {"term": term},
            )
            check(response, foreign, f"{viewer} autocomplete {model_name}.{field_name} {term}")


def unit_filters(model_admin):
    """The change list's filters by lead unit, as URL parameters."""
    for spec in model_admin.list_filter:
        path = spec[0] if isinstance(spec, tuple) else spec
        if isinstance(path, str) and path.endswith("lead_unit"):
            yield f"{path}__id__exact"


def _request_for(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    return request


_payloads = {}


def own_payload(world, viewer, model, kind):
    """A form as the viewer's own row shows it: the change form for change, the version form
    for a revert, a confirmation for delete; sent to another unit's row."""
    key = (viewer, model, kind)
    if key not in _payloads:
        own = world["units"][viewer]
        obj = own[model]
        data = {"post": "yes"}
        if kind in ("change", "simple_history"):
            if kind == "change":
                url = reverse(f"admin:livelihood_{model._meta.model_name}_change", args=[obj.pk])
            else:
                version = obj.history.order_by("history_id").first().history_id
                url = reverse(
                    f"admin:livelihood_{model._meta.model_name}_simple_history",
                    args=[obj.pk, version],
                )
            response = own["client"].get(url)
            if response.status_code == 200 and response.context and "adminform" in response.context:
                data = form_payload(response)
        _payloads[key] = data
    return _payloads[key]


def foreign_payload(model, other):
    """An add form that names another unit's row where the form takes one."""
    month = "2024-07-01"
    if model is MonthlyReport:
        return {"item": other[Item].pk, "month": month, "month_0": "2024", "month_1": "7"}
    if model is Milestone:
        return {"item": other[Item].pk, "number": 9, "title": "新节点", "planned_on": "2024-10-31"}
    if model is Figure:
        return {
            "report": other[MonthlyReport].pk,
            "indicator": other[Indicator].pk,
            "value": "1",
        }
    if model is Indicator:
        return {"item": other[Item].pk, "number": 9, "name": "新指标", "kind": "qualitative"}
    if model is PlannedValue:
        return {"indicator": other[Indicator].pk, "month": "2024-08-01", "value": "1"}
    if model is Item:
        return {"lead_unit": other["unit"].pk, "code": "9-9", "title": "新事项"}
    return None


# ------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------
def test_the_matrix_covers_twenty_pairs():
    pairs = list(itertools.permutations(LETTERS, 2))
    assert len(pairs) >= 20


@pytest.mark.parametrize("viewer", LETTERS)
def test_a_unit_reads_and_changes_no_other_units_rows_on_any_admin_path(world, viewer):
    _payloads.clear()
    foreign = [letter for letter in LETTERS if letter != viewer]
    before = fingerprint(world, foreign)
    seen_kinds = set()
    walk(world, viewer, foreign, seen_kinds)
    assert fingerprint(world, foreign) == before
    # The walk met every kind of page on every confined model.
    for model in CONFINED:
        for kind in ("changelist", "add", "change", "delete", "history", "simple_history"):
            assert (model.__name__, kind) in seen_kinds


def test_the_same_paths_show_a_unit_its_own_rows(world):
    """The positive control: the pages the matrix refuses show the viewer's own rows."""
    own = world["units"]["A"]
    client = own["client"]
    for model in CONFINED:
        obj = own[model]
        name = f"admin:livelihood_{model._meta.model_name}"
        changelist = client.get(reverse(f"{name}_changelist"))
        assert tag("A") in body(changelist), model
        popup = client.get(reverse(f"{name}_changelist") + "?_popup=1&_to_field=id")
        assert tag("A") in body(popup), model
        history = client.get(reverse(f"{name}_history", args=[obj.pk]))
        assert history.status_code == 200 and tag("A") in body(history), model
        version = obj.history.first().history_id
        detail = client.get(reverse(f"{name}_simple_history", args=[obj.pk, version]))
        assert detail.status_code == 200, model
        change = client.get(reverse(f"{name}_change", args=[obj.pk]))
        assert change.status_code == 200 and tag("A") in body(change), model
    answer = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "livelihood", "model_name": "monthlyreport", "field_name": "item"},
    ).json()
    assert [row["text"] for row in answer["results"]] == [str(own[Item])]


def test_a_unit_adds_a_milestone_for_its_own_item_only(world):
    own, other = world["units"]["A"], world["units"]["B"]
    url = reverse("admin:livelihood_milestone_add")
    data = {"item": other[Item].pk, "number": 9, "title": "新节点", "planned_on": "2024-10-31"}
    response = own["client"].post(url, data)
    assert response.status_code == 200
    assert "选择一个有效的选项" in body(response)
    assert not Milestone.objects.filter(title="新节点").exists()

    response = own["client"].post(url, data | {"item": own[Item].pk})
    assert response.status_code == 302
    assert Milestone.objects.get(title="新节点").item == own[Item]


def test_a_unit_cannot_delete_another_units_figure_in_bulk(world):
    own, other = world["units"]["A"], world["units"]["B"]
    response = own["client"].post(
        reverse("admin:livelihood_figure_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [other[Figure].pk, own[Figure].pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert Figure.objects.filter(pk=other[Figure].pk).exists()
    assert not Figure.objects.filter(pk=own[Figure].pk).exists()


def test_list_filters_offer_only_the_units_own_rows(world):
    """The office's report list filters by every unit; a unit's offers no other unit."""
    url = reverse("admin:livelihood_monthlyreport_changelist")
    office = User.objects.create_superuser("office-filter")
    client = Client()
    client.force_login(office)
    page = body(client.get(url))
    assert "单位UNA" in page and "单位UNB" in page
    page = body(world["units"]["A"]["client"].get(url))
    assert "单位UNB" not in page


def test_a_foreign_row_by_url_is_logged_as_denied(world, caplog):
    own, other = world["units"]["A"], world["units"]["B"]
    url = reverse("admin:livelihood_item_change", args=[other[Item].pk])
    with caplog.at_level("WARNING", logger="livelihood.accounts.security"):
        response = own["client"].get(url)
    assert response.status_code == 302
    assert any("拒绝访问" in r.getMessage() and "clerk-a" in r.getMessage() for r in caplog.records)


def test_a_user_without_unit_or_role_sees_nothing(world):
    user = User.objects.create_user("stray", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_item"))
    client = Client()
    client.force_login(user)
    page = body(client.get(reverse("admin:livelihood_item_changelist")))
    assert not any(tag(letter) in page for letter in LETTERS)


def test_the_coordinator_sees_every_unit(world):
    office_group, _ = roles.roles_ensure()
    user = User.objects.create_user("office", is_staff=True)
    user.groups.add(office_group)
    StaffProfile.objects.create(user=user, lead_unit=None)
    client = Client()
    client.force_login(user)
    for model in CONFINED:
        page = body(client.get(reverse(f"admin:livelihood_{model._meta.model_name}_changelist")))
        assert all(tag(letter) in page for letter in LETTERS), model
    other = world["units"]["C"]
    history = client.get(reverse("admin:livelihood_figure_history", args=[other[Figure].pk]))
    assert history.status_code == 200


def test_roles_are_groups_with_exactly_their_permissions(db):
    office, unit = roles.roles_ensure()
    assert {g.name for g in Group.objects.all()} >= {"区民生办", "牵头单位填报员"}
    unit_codes = set(unit.permissions.values_list("codename", flat=True))
    assert unit_codes == {
        "view_plan",
        "view_domain",
        "view_leadunit",
        "view_street",
        "view_item",
        "view_indicator",
        "view_plannedvalue",
        "view_monthlyreport",
        "add_monthlyreport",
        "change_monthlyreport",
        "view_figure",
        "add_figure",
        "change_figure",
        "delete_figure",
        "view_milestone",
        "add_milestone",
        "change_milestone",
        "view_reminderlog",
        "rate_peers",
        "view_feedback",
        "change_feedback",
    }
    office_codes = set(office.permissions.values_list("content_type__app_label", "codename"))
    assert ("livelihood", "change_item") in office_codes
    assert ("livelihood", "delete_monthlyreport") in office_codes
    assert ("livelihood", "view_staffprofile") in office_codes
    assert ("livelihood", "change_staffprofile") not in office_codes
    assert ("axes", "delete_accessattempt") in office_codes
    assert ("django_tasks_database", "view_dbtaskresult") in office_codes
    assert ("django_tasks_database", "change_dbtaskresult") not in office_codes
    assert not any(code.endswith("_user") or code.endswith("_group") for _, code in office_codes)
    assert not any("historical" in code for _, code in office_codes)


def test_roles_ensure_is_idempotent_and_resets_hand_edits(db):
    office, unit = roles.roles_ensure()
    unit.permissions.add(Permission.objects.get(codename="delete_item"))
    again_office, again_unit = roles.roles_ensure()
    assert (again_office.pk, again_unit.pk) == (office.pk, unit.pk)
    assert not again_unit.permissions.filter(codename="delete_item").exists()
    assert Group.objects.filter(name="牵头单位填报员").count() == 1


def test_migrate_creates_the_groups(db):
    """post_migrate ran when the test database was built."""
    unit = Group.objects.get(name="牵头单位填报员")
    assert unit.permissions.filter(codename="change_figure").exists()
    assert Group.objects.get(name="区民生办").permissions.filter(codename="change_item").exists()

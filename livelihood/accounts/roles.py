"""
The staff roles, as Django groups with exactly the permissions each needs.

- 牵头单位填报员 (lead-unit staff): read the plan; enter their unit's monthly reports, figures
  and milestones; answer residents' published feedback on their unit's items. Which unit is
  theirs comes from StaffProfile.lead_unit, and the admin confines them to it on every path
  (livelihood/admin.py, UnitScopedAdmin).
- 区民生办 (the coordinating office): everything in the portal's data, including the plan;
  sees who belongs to which unit and can lift a login lockout. Its StaffProfile has no unit.
- 街镇评价员 (a street's account): peer review (互评) and nothing else. Its StaffProfile names
  the street; it reaches no item, report or figure.

Superusers administer accounts and groups. The groups are defined here, not in the admin:
`roles_ensure()` runs after every `migrate` (post_migrate) and sets both groups' permissions to
exactly these, so a permission the code adds later reaches them and one added by hand to a
group does not survive the next deploy.
"""

from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Q

COORDINATOR_GROUP = "区民生办"
UNIT_GROUP = "牵头单位填报员"
STREET_GROUP = "街镇评价员"

# Peer review (互评): a custom permission of PeerReview, the one thing a street may do.
PEER_REVIEW = ("rate_peers", "peerreview")

APP = "livelihood"

# What lead-unit staff may do, as (action, model) pairs.
UNIT_PERMISSIONS = frozenset(
    [("view", model) for model in ("plan", "domain", "leadunit", "street")]
    + [("view", model) for model in ("item", "indicator", "plannedvalue")]
    + [
        (action, model)
        for action in ("view", "add", "change")
        for model in ("monthlyreport", "figure", "milestone")
    ]
    # A figure entered for the wrong street is removed from the report's form.
    + [("delete", "figure")]
    # The reminders the unit was sent (send_reminders).
    + [("view", "reminderlog")]
    # Residents' feedback on the unit's items, once published: read it and answer it.
    + [("view", "feedback"), ("change", "feedback")]
)
# Rating other units and streets (互评): a unit's own and a street's only permission.
UNIT_CODENAMES = frozenset(f"{action}_{model}" for action, model in UNIT_PERMISSIONS) | {
    PEER_REVIEW[0]
}
STREET_CODENAMES = frozenset([PEER_REVIEW[0]])

# The office holds every permission of the portal's own models except managing staff
# accounts' units (superusers do that); it may look at and lift login lockouts, and look at and
# reset (delete) staff's two-factor devices, never add or change one (each person enrols their
# own phone); and it may read the background tasks' results (django-tasks-db: whether the
# reminder mails and page warm-ups ran, and why one failed), which nobody changes by hand.
COORDINATOR_EXCLUDED = frozenset(
    [
        ("add", "staffprofile"),
        ("change", "staffprofile"),
        ("delete", "staffprofile"),
        ("add", "twofactordevice"),
        ("change", "twofactordevice"),
    ]
)
COORDINATOR_EXTRA = frozenset(
    [
        ("axes", "view_accessattempt"),
        ("axes", "delete_accessattempt"),
        ("django_tasks_database", "view_dbtaskresult"),
    ]
)


def _history_models() -> set[str]:
    from django.apps import apps
    from simple_history.models import HistoricalChanges

    return {
        model._meta.model_name
        for model in apps.get_app_config(APP).get_models()
        if issubclass(model, HistoricalChanges)
    }


def unit_permissions(using: str = DEFAULT_DB_ALIAS):
    return Permission.objects.using(using).filter(
        content_type__app_label=APP, codename__in=UNIT_CODENAMES
    )


def street_permissions(using: str = DEFAULT_DB_ALIAS):
    return Permission.objects.using(using).filter(
        content_type__app_label=APP, codename__in=STREET_CODENAMES
    )


def coordinator_permissions(using: str = DEFAULT_DB_ALIAS):
    excluded = [f"{action}_{model}" for action, model in COORDINATOR_EXCLUDED]
    extra = Q()
    for app_label, codename in COORDINATOR_EXTRA:
        extra |= Q(content_type__app_label=app_label, codename=codename)
    own = (
        Q(content_type__app_label=APP)
        & ~Q(content_type__model__in=_history_models())
        & ~Q(codename__in=excluded)
    )
    return Permission.objects.using(using).filter(own | extra)


@transaction.atomic
def roles_ensure(using: str = DEFAULT_DB_ALIAS) -> tuple[Group, Group]:
    """The groups, created when missing, with exactly the permissions above; returns
    (coordinator group, lead-unit group) (`street_group()` the third). Idempotent."""
    groups = Group.objects.using(using)
    office, _ = groups.get_or_create(name=COORDINATOR_GROUP)
    unit, _ = groups.get_or_create(name=UNIT_GROUP)
    street, _ = groups.get_or_create(name=STREET_GROUP)
    office.permissions.set(coordinator_permissions(using))
    unit.permissions.set(unit_permissions(using))
    street.permissions.set(street_permissions(using))
    return office, unit


def street_group(using: str = DEFAULT_DB_ALIAS) -> Group:
    roles_ensure(using)
    return Group.objects.using(using).get(name=STREET_GROUP)


def migrated(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    """post_migrate: by then every model's permissions exist."""
    roles_ensure(using)


def is_coordinator(user) -> bool:
    """Sees every unit's data: a superuser, office staff (a StaffProfile without a unit), or a
    member of the coordinator group with no StaffProfile. Anyone with a unit is that unit's.
    (livelihood/reporting/services.py answers the same question for the workflow.)"""
    if user is None or not user.is_active:
        return False
    if user.is_superuser:
        return True
    profile = getattr(user, "staff_profile", None)
    if profile is not None:
        return profile.lead_unit_id is None and profile.street_id is None
    return user.groups.filter(name=COORDINATOR_GROUP).exists()


def unit_of(user):
    """The lead unit a staff user is confined to; None for the office, superusers and users
    without a StaffProfile (who are confined to nothing and so see nothing)."""
    if user.is_superuser:
        return None
    profile = getattr(user, "staff_profile", None)
    return profile.lead_unit if profile is not None else None


def street_of(user):
    """The street a street's account (街镇评价员) speaks for, or None."""
    if user.is_superuser:
        return None
    profile = getattr(user, "staff_profile", None)
    return profile.street if profile is not None else None

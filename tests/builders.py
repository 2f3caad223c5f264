"""What several concerns' tests call, once: the repository root, a client signed in as a
user, the item as the pages see it, a plan's snapshot left unwritten. Fixtures are in
tests/conftest.py."""

from pathlib import Path

from django.test import Client

from livelihood.models import Item, MonthlyReport, SnapshotBuild
from livelihood.snapshots import build

ROOT = Path(__file__).resolve().parent.parent


def login(user):
    client = Client()
    client.force_login(user)
    return client


def fetch(item, **kwargs):
    """The item as the pages see it: annotated by with_progress()."""
    return Item.objects.with_progress(**kwargs).get(pk=item.pk)


def leave_unwritten(item, month, how):
    """Leave the stored snapshot of `item`'s plan unfit to read: "pending" (a figure of the
    item's `month` saved straight through the ORM, which only marks the plan) or "missing"
    (the plan's build deleted). Readers then compute afresh."""
    if how == "pending":
        MonthlyReport.objects.get(item=item, month=month).figures.get(street=None).save()
        assert build.is_pending(item.plan_id)
    else:
        SnapshotBuild.objects.filter(plan=item.plan).delete()

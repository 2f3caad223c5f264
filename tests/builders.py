"""What several concerns' tests call, once: the repository root, a client signed in as a
user, the item as the pages see it. Fixtures are in tests/conftest.py."""

from pathlib import Path

from django.test import Client

from livelihood.models import Item

ROOT = Path(__file__).resolve().parent.parent


def login(user):
    client = Client()
    client.force_login(user)
    return client


def fetch(item, **kwargs):
    """The item as the pages see it: annotated by with_progress()."""
    return Item.objects.with_progress(**kwargs).get(pk=item.pk)

"""What the accounts tests share."""

import pytest


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    """Many logins here; the production hasher's cost tells these tests nothing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

"""
Who is asking: whether a request may be answered with what every anonymous visitor gets (a
cached page, a read replica) or is personal. The page cache and the database router both ask
it, so it stands apart from both.
"""

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage


def is_personal(request) -> bool:
    """The visitor may see something meant for them alone: a logged-in session, a message."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME in cookies or CookieStorage.cookie_name in cookies

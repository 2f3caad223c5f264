"""What every spreadsheet the portal writes has in common."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A text cell that a spreadsheet would read as a formula (=, +, -, @, a tab or a carriage
    return first) gets a leading apostrophe, so that it is shown as text and never run
    (OWASP: CSV/formula injection). Numbers and other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value

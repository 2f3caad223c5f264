"""
What every spreadsheet the portal writes shares.

A cell whose text begins with `=`, `+`, `-` or `@` is run as a formula by Excel and
LibreOffice when the file is opened (CSV injection, OWASP); a leading tab or carriage return
lets some of them slip through the same way. `neutralise()` puts an apostrophe before such
text, so it is shown as written and never run. Numbers, dates and booleans pass unchanged and
stay numeric cells: -3 is a number, "-3" typed as text is not.
"""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """`value`, or for text a spreadsheet would run as a formula, that text behind an `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value

"""
What every export does to a cell before a spreadsheet program sees it.

A text that begins with `=`, `+`, `-` or `@` is run as a formula by Excel, LibreOffice and
WPS when a CSV file is opened, and openpyxl itself stores such a string as a formula; a tab or
a carriage return in front hides the same payload from a casual look (OWASP, "CSV Injection").
`neutralise()` puts an apostrophe in front of such a text, so that it is shown as the text it
is and never evaluated. Numbers, dates and None pass unchanged: a negative count stays a
number.
"""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """The value as a spreadsheet may safely receive it: a text that would start a formula
    gets a leading apostrophe; anything that is not a text is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value

"""
What people really type into a figure or a month, read strictly: the one parser the monthly
report form, the spreadsheet import and the commands share.

Tolerant of the form: full-width digits and punctuation (１２３，４５６), thousands separators,
numbers stored as text, spaces, `1.15万` for 11500, `98%` / `98` / `0.98` for a rate, Excel
dates, serial day numbers and `2024年6月` for months.

Strict about the meaning: a formula, a negative count, a rate over 100, text that is not a
number and a rate of exactly 1 without a percent sign (1% or 100%?) are refused with a message
in Chinese that says what to write instead.

Figures come back in plain units, as a `Decimal` (Figure.value): 1.15万 with the unit 万人 is
11500; a bare number is already in plain units (the unit column of the template says which,
e.g. 人), so 11500 and 1.15万 are the same figure.
"""

import datetime
import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from livelihood.progress import arithmetic as progress

HUNDRED = Decimal(100)
FORMULA_STARTS = ("=", "+", "@")

_SPACES = re.compile(r"\s+")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_MONTH_PATTERNS = (
    re.compile(r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月?(份)?$"),
    re.compile(r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})([-/.]\d{1,2})?$"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})$"),
)
# Excel counts days from 1899-12-30 (its 1900 leap-year bug included); 2000–2100 is plenty.
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_SERIAL_RANGE = (36526, 73051)


class ParseError(ValueError):
    """A value that cannot be read; the message says why and what to write, in Chinese."""


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC: １２３，４５６ → 123,456; ％ → %), spaces removed."""
    if len(text) <= _SHORT:
        return _normalise_short(text)
    return _normalise(text)


def _normalise(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


# A spreadsheet repeats its short texts on every row (codes, units, streets, months): each is
# folded once. Long texts are not kept, so the cache stays small whatever a file holds.
_SHORT = 64
_normalise_short = functools.lru_cache(maxsize=4096)(_normalise)


def parse_decimal(value) -> Decimal:
    """A number as typed or as a spreadsheet cell holds it, without unit handling."""
    if isinstance(value, bool):
        raise ParseError("应填写数值。")
    if isinstance(value, int | Decimal | float):
        # A float through its shortest text: 0.1 stays 0.1, not 0.1000000000000000055…
        number = Decimal(repr(value) if isinstance(value, float) else value)
        if not number.is_finite():  # NaN and infinity compare with nothing
            raise ParseError("应填写数值。")
        return number
    if not isinstance(value, str):
        raise ParseError("应填写数值。")
    text = normalise(value)
    if _GROUPED.match(text):
        text = text.replace(",", "")
    if not _PLAIN.match(text):
        raise ParseError(f"“{value.strip()}”不是数值。")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise ParseError(f"“{value.strip()}”不是数值。") from None


def parse_figure(value, *, kind: str, unit: str = "", percent_cell: bool = False) -> Decimal:
    """A figure for an indicator of `kind` (count/rate) with `unit` as written, in plain units.

    `percent_cell`: the spreadsheet cell is formatted as a percentage, so it holds a fraction
    (0.98 shown as 98%)."""
    if isinstance(value, str):
        text = normalise(value)
        if not text:
            raise ParseError("数值为空。")
        if text.startswith(FORMULA_STARTS) and not _PLAIN.match(text):
            raise ParseError("单元格是公式或以公式符号开头，请直接填写数值。")
    elif type(value).__name__ in ("ArrayFormula", "DataTableFormula"):  # openpyxl's
        raise ParseError("单元格是公式或以公式符号开头，请直接填写数值。")
    else:
        text = None
    if kind == "rate":
        number = _rate(value, text, percent_cell)
    else:
        number = _count(value, text, unit)
    error = progress.value_error(kind, number)
    if error and kind == "rate" and progress.out_of_range(kind, number):
        # Say what was read: a rate cell may hold 0.65 or 65%, and 6500 means a slip.
        error = f"{error}读取的数值为 {progress.format_number(number)}%。"
    if error:
        raise ParseError(error)
    return number


def _count(value, text, unit):
    if text is None:
        return parse_decimal(value)
    base = progress.plain_unit(unit)
    if base and text.endswith(base) and len(text) > len(base):
        text = text[: -len(base)]  # 11500人, 1.15万人
    for prefix, scale in progress.UNIT_PREFIXES.items():
        if text.endswith(prefix):
            return parse_decimal(text[: -len(prefix)]) * scale
    return parse_decimal(text)


def _rate(value, text, percent_cell):
    if text is not None and text.endswith("%"):
        return parse_decimal(text[:-1])
    number = parse_decimal(value if text is None else text)
    if percent_cell:
        return number * HUNDRED
    if 0 < number < 1:
        return number * HUNDRED  # 0.98 is 98%
    if number == 1:
        raise ParseError("比率填 1 无法判断是 1% 还是 100%，请写成“1%”或“100%”。")
    return number


def parse_month(value) -> datetime.date:
    """The first day of the month a cell names: a date, an Excel serial day number,
    2024-06, 2024/6, 2024.06, 202406 or 2024年6月."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.replace(day=1)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = Decimal(repr(value) if isinstance(value, float) else value)
        # NaN and infinity first: they compare with nothing and have no integer.
        whole = number.is_finite() and number == number.to_integral_value()
        if whole and _SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]:
            day = _EXCEL_EPOCH + datetime.timedelta(days=int(value))
            return day.replace(day=1)
        raise ParseError(f"“{value}”不是月份，请写成“2024年6月”或“2024-06”。")
    if not isinstance(value, str) or not value.strip():
        raise ParseError("月份为空，请写成“2024年6月”或“2024-06”。")
    text = normalise(value)
    for pattern in _MONTH_PATTERNS:
        found = pattern.match(text)
        if found:
            year, month = int(found["y"]), int(found["m"])
            if year < datetime.MINYEAR:  # 0000-06: no such date
                raise ParseError(f"“{value.strip()}”中的年份无效。")
            if 1 <= month <= 12:
                return datetime.date(year, month, 1)
            raise ParseError(f"“{value.strip()}”中的月份应在 1 到 12 之间。")
    raise ParseError(f"“{value.strip()}”不是月份，请写成“2024年6月”或“2024-06”。")

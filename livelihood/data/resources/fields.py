"""
What every open-data dataset is made of: the field (its type, unit and meaning, as the data page
and the API description give them), the widgets that show its value, and the export-only
resource the datasets derive from (livelihood/data/resources/__init__.py lists them).
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, Manager, OuterRef, Q
from django.utils import timezone
from import_export import fields, resources, widgets

from livelihood.plan.models import Milestone, Plan
from livelihood.progress import arithmetic as progress
from livelihood.progress.arithmetic import Status
from livelihood.progress.querysets import approved_q
from livelihood.reporting.models import MonthlyReport

STRING, INTEGER, NUMBER, BOOLEAN, DATE, MONTH = (
    "string",
    "integer",
    "number",
    "boolean",
    "date",
    "month",
)
PERCENT = "%"
STATUS_CODES = tuple(status.value for status in Status)


def month_text(month: datetime.date | None) -> str | None:
    return None if month is None else f"{month:%Y-%m}"


def local_date(moment) -> datetime.date | None:
    """A moment as the date it was in Beijing (the portal's time zone)."""
    return None if moment is None else timezone.localdate(moment)


class NativeWidget(widgets.Widget):
    """Hands the value on as it is: the file writers format it."""

    def render(self, value, obj=None, **kwargs):
        return value


class PercentWidget(NativeWidget):
    """A fraction as the number of percent the pages show: one decimal, rounded half up
    (四舍五入) by `progress.percent` as the pages round it (0.31304 → 31.3, 0.1225 → 12.3)."""

    def render(self, value, obj=None, **kwargs):
        return progress.percent(value)


class MonthWidget(NativeWidget):
    """A month as `YYYY-MM`."""

    def render(self, value, obj=None, **kwargs):
        return month_text(value)


class LocalDateWidget(NativeWidget):
    """A moment as the date it was in Beijing."""

    def render(self, value, obj=None, **kwargs):
        return local_date(value)


class TextWidget(NativeWidget):
    """A text that may be missing, as an empty string."""

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value


def _default_widget(type: str, unit: str) -> NativeWidget:
    if unit == PERCENT:
        return PercentWidget()
    if type == MONTH:
        return MonthWidget()
    return NativeWidget()


class PublicField(fields.Field):
    """A field of the open data, with what the data page and the API description say of it.

    Its value is read from `attribute` (the field's name by default; "__" descends into
    related objects and dicts, a missing step gives None) and shown through its widget: a
    percentage by `progress.percent`, a month as `YYYY-MM`, anything else as it is, unless
    `widget` says otherwise. A `dehydrate_<name>` method of the resource, or a callable
    `dehydrate_method`, reads it instead."""

    def __init__(
        self,
        column_name,
        *,
        type=STRING,
        unit="",
        help="",
        nullable=False,
        enum=(),
        widget=None,
        **kwargs,
    ):
        if widget is None:
            widget = _default_widget(type, unit)
        super().__init__(column_name=column_name, widget=widget, readonly=True, **kwargs)
        self.type = type
        self.unit = unit
        self.help = help
        self.nullable = nullable
        self.enum = tuple(enum)  # the only values it takes, when they are a fixed few

    def reader(self):
        """`export` as a function of the object: `get_value` through the widget. An attribute
        of one step (every column of the figures, read by hundreds of thousands) is read
        as `get_value` reads it, without splitting the path again on every row, and a
        NativeWidget is not called at all."""
        steps = tuple(self.attribute.split("__"))
        render = None if type(self.widget) is NativeWidget else self.widget.render
        if len(steps) > 1:
            get_value = self.get_value
            return get_value if render is None else lambda obj: render(get_value(obj))
        (step,) = steps

        def read(obj):  # Field.get_value, for one step
            try:
                value = obj[step] if isinstance(obj, dict) else getattr(obj, step, None)
            except (ValueError, ObjectDoesNotExist, KeyError):
                value = None
            if callable(value) and not isinstance(value, Manager):
                value = value()
            return value if render is None else render(value)

        return read


def demo_present() -> bool:
    """Demo data exists: the pages show the 演示数据 banner
    (livelihood/public/context_processors.py)."""
    return (
        MonthlyReport.objects.filter(is_demo=True).exists()
        or Milestone.objects.filter(is_demo=True).exists()
    )


def item_demo_q() -> Q:
    """An item whose public progress rests on demo data: an approved demo report, or a demo
    milestone."""
    return Q(
        Exists(MonthlyReport.objects.filter(approved_q(), item=OuterRef("pk"), is_demo=True))
    ) | Q(Exists(Milestone.objects.filter(item=OuterRef("pk"), is_demo=True)))


def demo_field(**kwargs):
    return PublicField(
        "演示数据",
        type=BOOLEAN,
        help="是：本行数值由系统生成，用于演示，并非牵头单位实际填报，不能引用。",
        **kwargs,
    )


class PublicResource(resources.Resource):
    """Export only. `rows()` yields one list of native values per row, in field order;
    `records()` one dict per row keyed by field name (the JSON keys)."""

    slug = ""  # the dataset in URLs and file names
    label = ""  # the dataset as the data page names it
    summary = ""  # what it holds, in a line
    large = False  # streamed in chunks rather than built whole

    def __init__(self, plan: Plan | None = None, queryset=None, **kwargs):
        super().__init__(**kwargs)
        self.plan = plan
        self.queryset = queryset

    def get_queryset(self):
        raise NotImplementedError

    def objects(self):
        """The rows' objects: a bounded list, or for a large dataset an iterator."""
        queryset = self.get_queryset() if self.queryset is None else self.queryset
        if self.large:
            return queryset.iterator(chunk_size=self.get_chunk_size())
        return list(queryset)

    def columns(self) -> list[tuple[str, PublicField]]:
        return [(self.get_field_name(f), f) for f in self.get_export_fields()]

    def _getters(self):
        """One function per column, reading its value from an object as import-export's
        `Resource.export_field` does: the resource's `dehydrate_<name>` method, else the
        field's callable `dehydrate_method`, else its attribute through its widget (`reader`)."""
        getters = []
        for name, field in self.columns():
            method = field.get_dehydrate_method(name)
            if not callable(method):
                method = getattr(self, method, None)
            if method is None:
                field.attribute = field.attribute or name
                method = field.reader()
            getters.append(method)
        return getters

    def rows(self, objects=None):
        getters = self._getters()
        for obj in self.objects() if objects is None else objects:
            yield [_plain(get(obj)) for get in getters]

    def records(self, objects=None):
        names = [name for name, _ in self.columns()]
        for row in self.rows(objects):
            yield dict(zip(names, row, strict=True))

    def headers(self) -> list[str]:
        return [str(field.column_name) for _, field in self.columns()]


def _plain(value):
    """A stored Decimal without trailing zeros or exponent (11500.0000 → 11500, 1.00 → 1);
    anything else as it is."""
    if isinstance(value, Decimal):
        return Decimal(progress.format_number(value))
    return value

"""
Spreadsheets in: the plan itself, its items and indicators. `PlanResource` turns each row of a
file read by livelihood/data/reading.py into an indicator of an item; `plan_import` runs it
(livelihood/data/outcomes.py says what every import guarantees). The admin's import
(livelihood/data/admin.py: PlanImportAdmin) and `manage.py import_plan` call it; the plan as a
workbook to fill in is livelihood/data/import_templates.py: `plan_template`.
"""

import re

from django.core.exceptions import ValidationError
from import_export import resources
from import_export.results import RowResult

from livelihood.accounts.roles import is_coordinator
from livelihood.data.outcomes import (
    Outcome,
    PreviewRow,
    RowError,
    row_error,
    run,
)
from livelihood.data.reading import (
    PLAN_SPEC,
    ROW,
    Formula,
    ImportFileError,
    Percent,
    cell_text,
    is_blank,
    read_sheet,
    shown,
)
from livelihood.plan.models import Domain, Indicator, Item, LeadUnit, Plan
from livelihood.plan.parsing import (
    ParseError,
    normalise,
    parse_decimal,
)
from livelihood.reporting.models import Figure, MonthlyReport
from livelihood.snapshots import build as snapshots

State = MonthlyReport.State

KINDS = {
    "累计数": "count",
    "累计": "count",
    "数量": "count",
    "count": "count",
    "比率": "rate",
    "比例": "rate",
    "百分比": "rate",
    "rate": "rate",
    "标准": "standard",
    "standard": "standard",
    "定性": "qualitative",
    "qualitative": "qualitative",
}
COMPARATORS = {
    "": "",
    "≥": "gte",
    ">=": "gte",
    "不低于": "gte",
    "不少于": "gte",
    "达到": "gte",
    "=": "eq",
    "等于": "eq",
    "≈": "approx",
    "约": "approx",
    "≤": "lte",
    "<=": "lte",
    "不高于": "lte",
    "不超过": "lte",
}
YES = {"是", "y", "yes", "true", "1", "√", "✓"}
NO = {"", "否", "n", "no", "false", "0", "×"}
ITEM_CODE = re.compile(r"^(?P<domain>\d{1,2})-(?P<number>\d{1,3})$")


class PlanResource(resources.ModelResource):
    """One row is one indicator of an item (an item without indicators: a row with the
    indicator columns blank). Item columns may be left blank on an item's later rows, as
    merged cells read. Items and indicators are matched by code and number and saved one by
    one with `full_clean()` (history kept); nothing is deleted."""

    field_labels = {
        "name": "指标名称",
        "kind": "指标类型",
        "comparator": "比较",
        "target": "目标值",
        "unit": "单位",
        "baseline": "基数",
        "weight": "指标权重",
        "number": "指标序号",
        "item": "事项编号",
        "has_street_breakdown": "分街镇填报",
    }

    class Meta:
        model = Indicator
        fields = ()
        use_bulk = False
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        skip_diff = True
        use_transactions = True

    def __init__(self, *, plan: Plan, user=None, overwrite_approved: bool = False):
        super().__init__()
        self.plan = plan
        self.user = user
        self.overwrite_approved = overwrite_approved
        self.preview: list[PreviewRow] = []
        self.versions_seen = {}
        self.ready = False
        self.items_seen: dict[str, tuple[int, dict]] = {}
        self.indicators_seen: dict[tuple, int] = {}
        self.last_code = ""
        self.changed_items: set[str] = set()

    def before_import(self, dataset, **kwargs):
        if self.user is not None and not is_coordinator(self.user):
            raise ImportFileError("只有区民生办可以导入年度计划。")
        self.domains = {d.number: d for d in Domain.objects.filter(plan=self.plan)}
        self.units = {}
        for unit in LeadUnit.objects.all():
            for name in (unit.name, unit.short_name, unit.code):
                if name:
                    self.units[normalise(name).lower()] = unit
        self.items = {
            item.code: item
            for item in Item.objects.filter(plan=self.plan)
            .select_related("domain", "lead_unit")
            .prefetch_related("partner_units", "indicators")
        }
        self.approved = set(
            MonthlyReport.objects.filter(item__plan=self.plan, state=State.APPROVED).values_list(
                "item__code", flat=True
            )
        )
        self.with_figures = set(
            Figure.objects.filter(report__item__plan=self.plan).values_list(
                "indicator_id", flat=True
            )
        )
        self.next_order = max((item.order for item in self.items.values()), default=0) + 1
        self.ready = True

    def import_row(self, row, instance_loader, **kwargs):
        if not self.ready:
            result = self.get_row_result_class()()
            result.import_type = RowResult.IMPORT_TYPE_SKIP
            return result
        return super().import_row(row, instance_loader, **kwargs)

    # --------------------------------------------------------------------------
    # The item a row belongs to
    # --------------------------------------------------------------------------
    def get_or_init_instance(self, instance_loader, row):
        for header, value in row.items():
            if isinstance(value, Formula):
                raise row_error(header, f"单元格是公式（{shown(value)}），请改为直接填写内容。")
        number = row[ROW]
        code = cell_text(row.get("事项编号")).replace("—", "-")
        item_columns = [
            "领域序号",
            "领域",
            "事项名称",
            "牵头单位",
            "牵头单位待确认",
            "配合单位",
            "事项权重",
            "文件原文",
        ]
        if not code:
            if not self.last_code or any(not is_blank(row.get(c)) for c in item_columns):
                raise row_error("事项编号", "事项编号为空。")
            code = self.last_code
        else:
            self.last_code = code
            found = ITEM_CODE.match(code)
            if not found:
                raise row_error(
                    "事项编号",
                    f"事项编号“{shown(row['事项编号'])}”应写成“领域序号-事项序号”，例如 3-2。",
                )
            self._item(code, found, row, number)
        item = self.items.get(code)
        if item is None or (code in self.items_seen and self.items_seen[code][1] is None):
            raise row_error("事项编号", f"事项 {code} 所在的第一行有误，请先改正那一行。")
        self._row = (number, item)
        indicator_number = row.get("指标序号")
        if is_blank(indicator_number) and is_blank(row.get("指标名称")):
            self._item_only = True
            return Indicator(item=item), True
        self._item_only = False
        try:
            value = parse_decimal(indicator_number if indicator_number is not None else "")
            if value != int(value) or value < 1:
                raise ParseError("")
        except ParseError:
            raise row_error("指标序号", "指标序号应为正整数，例如 1。") from None
        key = (code, int(value))
        if key in self.indicators_seen:
            raise row_error(
                "指标序号",
                f"与第 {self.indicators_seen[key]} 行重复：事项 {code} 的第 {int(value)} 个指标。",
            )
        self.indicators_seen[key] = number
        existing = (
            next((i for i in item.indicators.all() if i.number == int(value)), None)
            if item.pk
            else None
        )
        if existing is not None:
            return existing, False
        return Indicator(item=item, number=int(value)), True

    def _item(self, code, found, row, number) -> Item:
        """The item the row names, created or updated on its first row; later rows repeat it
        or leave its columns blank."""
        fields = {}
        domain_number = row.get("领域序号")
        if not is_blank(domain_number):
            try:
                domain_number = int(parse_decimal(cell_text(domain_number)))
            except ParseError:
                raise row_error("领域序号", "领域序号应为整数。") from None
            if domain_number != int(found["domain"]):
                raise row_error(
                    "领域序号",
                    f"事项编号 {code} 属于第 {found['domain']} 领域，"
                    f"与领域序号 {domain_number} 不符。",
                )
        domain = self.domains.get(int(found["domain"]))
        if domain is None:
            raise row_error(
                "事项编号",
                f"{self.plan.year}年度计划中没有第 {found['domain']} 个领域，请先在后台添加领域。",
            )
        name = cell_text(row.get("领域"))
        if name and name != normalise(domain.name):
            raise row_error(
                "领域", f"第 {domain.number} 个领域是“{domain.name}”，不是“{shown(row['领域'])}”。"
            )
        fields["domain"] = domain
        title = str(row.get("事项名称") or "").strip()
        if title:
            fields["title"] = title
        lead = cell_text(row.get("牵头单位"))
        if lead:
            unit = self.units.get(lead.lower())
            if unit is None:
                raise row_error(
                    "牵头单位",
                    f"“{shown(row['牵头单位'])}”不是已登记的牵头单位；请写全称或简称，或先在后台添加该单位。",
                )
            fields["lead_unit"] = unit
        provisional = cell_text(row.get("牵头单位待确认")).lower()
        if provisional:
            if provisional not in YES | NO:
                raise row_error("牵头单位待确认", "请填“是”或“否”。")
            fields["lead_unit_provisional"] = provisional in YES
        partners = None
        if not is_blank(row.get("配合单位")):
            partners = []
            for part in re.split(r"[、,，;；/\s]+", str(row["配合单位"])):
                if not part.strip():
                    continue
                unit = self.units.get(normalise(part).lower())
                if unit is None:
                    raise row_error("配合单位", f"“{part.strip()}”不是已登记的单位。")
                partners.append(unit)
        if not is_blank(row.get("事项权重")):
            try:
                fields["weight"] = parse_decimal(row["事项权重"])
            except ParseError as error:
                raise row_error("事项权重", str(error)) from None
        if not is_blank(row.get("文件原文")):
            fields["source_text"] = str(row["文件原文"]).strip()

        if code in self.items_seen:
            first, first_fields = self.items_seen[code]
            for key, value in fields.items():
                if key != "domain" and first_fields.get(key, value) != value:
                    raise row_error(
                        "事项名称" if key == "title" else "事项编号",
                        f"与第 {first} 行中事项 {code} 的内容不一致；同一事项各行应相同，或留空。",
                    )
            return self.items.get(code)
        self.items_seen[code] = (number, None)  # until the item is known good

        item = self.items.get(code)
        new = item is None
        if new:
            missing = [
                label
                for key, label in (("title", "事项名称"), ("lead_unit", "牵头单位"))
                if key not in fields
            ]
            if missing:
                raise row_error(missing[0], f"新事项 {code} 须填写{'、'.join(missing)}。")
            item = Item(plan=self.plan, code=code, order=self.next_order)
            self.next_order += 1
        before = _item_state(item) if not new else None
        for key, value in fields.items():
            setattr(item, key, value)
        changed = new or _item_state(item) != before
        if partners is not None and (
            new or {p.pk for p in partners} != {p.pk for p in item.partner_units.all()}
        ):
            changed = True
        if changed and not new:
            self._refuse_if_approved(code, "事项名称")
        if changed:
            try:
                item.full_clean(exclude=["partner_units"])
            except ValidationError as error:
                raise ValidationError(
                    {self._item_label(k): v for k, v in error.message_dict.items()}
                ) from None
            item._history_user = self.user
            item.save()
            if partners is not None:
                item.partner_units.set(partners)
            self.items[code] = item
            self.changed_items.add(code)
            self.preview.append(
                PreviewRow(
                    number,
                    f"{code} {item.title}",
                    "（事项）",
                    "",
                    "",
                    "",
                    "新增" if new else "修改",
                )
            )
        self.items[code] = item
        self.items_seen[code] = (number, fields)
        return item

    @staticmethod
    def _item_label(key):
        return {
            "title": "事项名称",
            "lead_unit": "牵头单位",
            "weight": "事项权重",
            "domain": "领域序号",
            "code": "事项编号",
        }.get(key, "事项编号")

    def _refuse_if_approved(self, code, column):
        if code in self.approved and not self.overwrite_approved:
            raise row_error(
                column,
                f"事项 {code} 已有审核通过的月度报告，修改会改变已公开的进度；"
                "确需修改，请勾选“允许修改已有审核报告的事项”（命令行加 --overwrite-approved）。",
            )

    # --------------------------------------------------------------------------
    # The indicator
    # --------------------------------------------------------------------------
    def import_instance(self, instance, row, **kwargs):
        if self._item_only:
            return
        item = self._row[1]
        self._before = _indicator_state(instance) if instance.pk else None
        name = str(row.get("指标名称") or "").strip()
        if not name:
            raise row_error("指标名称", "指标名称为空。")
        instance.name = name
        kind = cell_text(row.get("指标类型")).lower()
        if kind not in KINDS:
            raise row_error("指标类型", "指标类型应为“累计数”“比率”“标准”或“定性”。")
        instance.kind = KINDS[kind]
        comparator = cell_text(row.get("比较"))
        if comparator not in COMPARATORS:
            raise row_error("比较", "比较应为“≥”“=”“≈”或“≤”（也可写“不低于”“约”“不超过”）。")
        instance.comparator = COMPARATORS[comparator]
        unit = cell_text(row.get("单位"))
        instance.unit = unit
        instance.target = self._decimal(row, "目标值", unit)
        instance.baseline = self._decimal(row, "基数", unit)
        weight = self._decimal(row, "指标权重", "")
        if weight is not None:
            instance.weight = weight
        streets = cell_text(row.get("分街镇填报")).lower()
        if streets not in YES | NO:
            raise row_error("分街镇填报", "请填“是”或“否”。")
        instance.has_street_breakdown = streets in YES
        if self._before is not None and instance.pk in self.with_figures:
            if (instance.unit, instance.kind) != (self._before["unit"], self._before["kind"]):
                raise row_error(
                    "单位" if instance.unit != self._before["unit"] else "指标类型",
                    "该指标已有填报数值，不能修改单位或类型（已填的数值会随之失真）；"
                    "如确需调整，请新增一个指标。",
                )
        if self._before is not None and _indicator_state(instance) != self._before:
            self._refuse_if_approved(item.code, "指标名称")

    def _decimal(self, row, column, unit):
        raw = row.get(column)
        if is_blank(raw):
            return None
        if isinstance(raw, Percent):
            return parse_decimal(raw.value) * 100
        text = cell_text(raw)
        for suffix in (unit, "%"):
            if suffix and text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
        try:
            return parse_decimal(text if isinstance(raw, str) else raw)
        except ParseError as error:
            raise row_error(column, str(error)) from None

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False
        if self._item_only:
            return True
        if self._before is not None and _indicator_state(instance) == self._before:
            self._plan_preview(instance, "未变化")
            return True
        return False

    def save_instance(self, instance, is_create, row, **kwargs):
        instance._history_user = self.user
        instance.save()
        self._plan_preview(instance, "新增" if is_create else "修改")

    def _plan_preview(self, instance, action):
        number, item = self._row
        self.preview.append(
            PreviewRow(
                number,
                f"{item.code} {item.title}",
                f"{instance.number}. {instance.name}",
                "分街镇" if instance.has_street_breakdown else "",
                "",
                instance.target_display if instance.target is not None else "",
                action,
            )
        )

    def after_import(self, dataset, result, **kwargs):
        if not self.ready or result.has_errors() or result.has_validation_errors():
            return
        count = Item.objects.filter(plan=self.plan).count()
        if count > self.plan.declared_item_count:
            raise ImportFileError(
                f"导入后计划共有 {count} 项事项，"
                f"超过文件所列的 {self.plan.declared_item_count} 项；"
                "请检查事项编号是否写错。"
            )
        # Weights, targets and indicators feed the progress: its stored snapshot is written
        # in the import's own transaction (rolled back with a dry run).
        snapshots.write_pending()
        super().after_import(dataset, result, **kwargs)

    def report_labels(self):
        return [f"{code} {self.items[code].title}" for code in sorted(self.changed_items)]


def _item_state(item) -> dict:
    return {
        key: getattr(item, key)
        for key in (
            "title",
            "domain_id",
            "lead_unit_id",
            "lead_unit_provisional",
            "weight",
            "source_text",
        )
    }


def _indicator_state(indicator) -> dict:
    return {
        key: getattr(indicator, key)
        for key in (
            "name",
            "kind",
            "comparator",
            "target",
            "unit",
            "baseline",
            "weight",
            "has_street_breakdown",
        )
    }


def plan_import(
    *,
    data: bytes,
    file_name: str = "",
    plan: Plan,
    user=None,
    dry_run: bool = False,
    overwrite_approved: bool = False,
) -> Outcome:
    """Import items and indicators of `plan` from a spreadsheet: everything or nothing."""
    try:
        dataset = read_sheet(data, PLAN_SPEC, file_name).dataset()
    except ImportFileError as error:
        return Outcome(dry_run=dry_run, errors=[RowError(0, "", error.message)])
    resource = PlanResource(plan=plan, user=user, overwrite_approved=overwrite_approved)
    return run(resource, dataset, dry_run=dry_run, user=user)

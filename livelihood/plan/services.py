"""
Next year's plan (有进有退、滚动实施): a new year starts as a copy of this year's.

`plan_copy` copies the plan's domains, items (titles, lead and partner units, weights) and
indicators (targets, units, weights, baselines), its milestones (titles, planned dates moved
to the new year, none done) and, when asked, the monthly planned values (moved likewise) into
a draft plan for the new year. Nothing reported is copied: no monthly report, figure,
milestone completion, satisfaction vote or evaluation. The draft is unpublished: no public
page shows it until the coordinating office has dropped, kept or changed items and targets
and publishes it (Plan.published).
"""

import datetime

from django.db import transaction

from livelihood.plan.models import Domain, Indicator, Item, Milestone, Plan, PlannedValue
from livelihood.snapshots import build as snapshots


class PlanCopyError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def shift_year(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def plan_copy(*, source_year: int, target_year: int, planned_values: bool = False) -> Plan:
    """The draft plan for `target_year`, copied from the plan of `source_year`."""
    if Plan.objects.filter(year=target_year).exists():
        raise PlanCopyError(
            f"{target_year}年度计划已经存在，未做任何修改。如需重新复制，请先在后台删除该年度计划。"
        )
    if not 2000 <= target_year <= 2100:
        raise PlanCopyError(f"年度“{target_year}”无效。")
    source = Plan.objects.filter(year=source_year).first()
    if source is None:
        raise PlanCopyError(f"没有{source_year}年度计划，无法复制。")
    years = target_year - source_year
    plan = Plan.objects.create(
        year=target_year,
        title=source.title.replace(str(source_year), str(target_year)),
        document_number="（待印发）",
        parent_document_number="",
        issued_on=shift_year(source.issued_on, years),
        declared_item_count=source.declared_item_count,
        summary=source.summary.replace(str(source_year), str(target_year)),
        published=False,
    )
    domains = {}
    for domain in source.domains.order_by("number"):
        domains[domain.pk] = Domain.objects.create(
            plan=plan, number=domain.number, name=domain.name
        )
    items = source.items.order_by("domain__number", "order", "code").prefetch_related(
        "partner_units", "indicators__planned_values", "milestones"
    )
    for item in items:
        copy = Item.objects.create(
            plan=plan,
            domain=domains[item.domain_id],
            code=item.code,
            title=item.title,
            lead_unit_id=item.lead_unit_id,
            lead_unit_provisional=item.lead_unit_provisional,
            weight=item.weight,
            order=item.order,
        )
        copy.partner_units.set(item.partner_units.all())
        for indicator in item.indicators.all():
            new = Indicator.objects.create(
                item=copy,
                number=indicator.number,
                name=indicator.name,
                kind=indicator.kind,
                comparator=indicator.comparator,
                target=indicator.target,
                unit=indicator.unit,
                unit_inferred=indicator.unit_inferred,
                baseline=indicator.baseline,
                weight=indicator.weight,
                has_street_breakdown=indicator.has_street_breakdown,
            )
            if planned_values:
                for planned in indicator.planned_values.all():
                    PlannedValue.objects.create(
                        indicator=new, month=shift_year(planned.month, years), value=planned.value
                    )
        for milestone in item.milestones.all():
            Milestone.objects.create(
                item=copy,
                number=milestone.number,
                title=milestone.title,
                planned_on=shift_year(milestone.planned_on, years),
                is_demo=milestone.is_demo,
            )
    snapshots.write_pending()
    return plan

"""
Raise the publication versions (livelihood/operations/publication.py) whenever something
residents can see changes, so that no cached public page outlives it.

Every save and delete counts, whatever changed: a report approved, reopened, returned or
submitted (逾期未报 reads submissions), a figure corrected, a milestone done, the plan edited.
Saving a draft raises them too; drafts are rare next to page views and a narrower rule would
be one more thing to get wrong. A transaction raises them once, after it commits.

Which versions (`bump_for`): a row of one plan (PLAN_OF says how to find it) raises that
plan's; the plans themselves, lead units and streets (shown on every plan year's pages) raise
the site's. So does a demo row created or deleted: while one exists every page says 演示数据
(livelihood/public/context_processors.py). Nothing changes `is_demo` on an existing row (the
demo commands create and delete them, the admin shows the flag read-only).

Writes that send no signals (`QuerySet.update()`, `bulk_create()`) call `publication_bump()`.
"""

from django.db import connections
from django.db.models.signals import m2m_changed, post_delete, post_save

from livelihood import models
from livelihood.operations.publication import (
    bump_now,
    publication_bump,
)

# What the public pages show, directly or through the progress arithmetic.
PUBLIC_MODELS = (
    models.Plan,
    models.Domain,
    models.LeadUnit,
    models.Street,
    models.Item,
    models.Indicator,
    models.PlannedValue,
    models.MonthlyReport,
    models.Figure,
    models.Milestone,
    # Published evaluation results (a round's state, its criteria, its scores).
    models.EvaluationRound,
    models.EvaluationCriterion,
    models.EvaluationScore,
    # Residents' voice and publicity (item, unit, home and calendar pages).
    models.SatisfactionVote,
    models.PublicityMonth,
)

DISPATCH_PREFIX = "livelihood.operations.publication"

# How a row's plan is found: the foreign key it holds, and the path from the row that key
# points to to the plan's id (looked up once, when the transaction commits). Models not named
# here are shown on every plan year's pages: a change raises the site's version.
PLAN_OF = {
    models.Domain: ("plan_id", None, None),
    models.Item: ("plan_id", None, None),
    models.Indicator: ("item_id", models.Item, "plan_id"),
    models.PlannedValue: ("indicator_id", models.Indicator, "item__plan_id"),
    models.MonthlyReport: ("item_id", models.Item, "plan_id"),
    models.Figure: ("report_id", models.MonthlyReport, "item__plan_id"),
    models.Milestone: ("item_id", models.Item, "plan_id"),
    models.EvaluationRound: ("plan_id", None, None),
    models.EvaluationCriterion: ("round_id", models.EvaluationRound, "plan_id"),
    models.EvaluationScore: ("criterion_id", models.EvaluationCriterion, "round__plan_id"),
    models.SatisfactionVote: ("item_id", models.Item, "plan_id"),
    models.PublicityMonth: ("plan_id", None, None),
    models.Feedback: ("item_id", models.Item, "plan_id"),
}


def bump_for(instance, using, *, appeared_or_went=False):
    """Raise the versions `instance`'s change moves, once the transaction commits."""
    found = PLAN_OF.get(type(instance))
    if found is None or (appeared_or_went and getattr(instance, "is_demo", False)):
        publication_bump(using)
        return
    attname, model, path = found
    key = getattr(instance, attname)
    if key is None:
        publication_bump(using)
    elif model is None:
        publication_bump(using, plan=key)
    else:
        publication_bump(using, through=(model, path, key))


def saved(sender, instance, created=False, using=None, **kwargs):
    bump_for(instance, using or "default", appeared_or_went=created)


def deleted(sender, instance, using=None, **kwargs):
    bump_for(instance, using or "default", appeared_or_went=True)


def connect():
    for model in PUBLIC_MODELS:
        name = model._meta.model_name
        post_save.connect(saved, sender=model, dispatch_uid=f"{DISPATCH_PREFIX}.save.{name}")
        post_delete.connect(deleted, sender=model, dispatch_uid=f"{DISPATCH_PREFIX}.delete.{name}")
    m2m_changed.connect(
        partners_changed,
        sender=models.Item.partner_units.through,
        dispatch_uid=f"{DISPATCH_PREFIX}.partners",
    )
    m2m_changed.connect(
        partners_changed,
        sender=models.PublicityMonth.items.through,
        dispatch_uid=f"{DISPATCH_PREFIX}.publicity-items",
    )
    post_save.connect(
        feedback_saved, sender=models.Feedback, dispatch_uid=f"{DISPATCH_PREFIX}.save.feedback"
    )
    post_delete.connect(
        deleted, sender=models.Feedback, dispatch_uid=f"{DISPATCH_PREFIX}.delete.feedback"
    )


def feedback_saved(sender, instance, created, using=None, **kwargs):
    """A message arriving in the moderation queue changes no public page (and a flood of
    them must not empty the page cache); publishing, answering and withdrawing do."""
    if created and instance.state == models.Feedback.State.PENDING:
        return
    bump_for(instance, using or "default")


def partners_changed(sender, instance, action, using=None, **kwargs):
    """An item's partner units, a publicity month's items: within the plan of either. From
    the other side (a unit's items, `reverse`) the plans are not at hand: the whole site."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    plan = getattr(instance, "plan_id", None)  # a lead unit has none
    publication_bump(using or "default", plan=plan)


def migrated(sender, using="default", **kwargs):
    """A deploy runs `migrate`: new code or templates may show the same data differently, so
    pages cached before it (in Redis, which outlives the app servers) must not be served."""
    table = models.PublicationVersion._meta.db_table
    connection = connections[using]
    if table in connection.introspection.table_names():
        bump_now(using)

"""
Raise the publication version (livelihood/operations/publication.py) whenever something residents
can see
changes, so that no cached public page outlives it.

Every save and delete counts, whatever changed: a report approved, reopened, returned or
submitted (逾期未报 reads submissions), a figure corrected, a milestone done, the plan edited.
Saving a draft raises it too; drafts are rare next to page views and a narrower rule would be
one more thing to get wrong. A transaction raises it once, after it commits.

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


def changed(sender, using=None, **kwargs):
    publication_bump(using or "default")


def connect():
    for model in PUBLIC_MODELS:
        name = model._meta.model_name
        post_save.connect(changed, sender=model, dispatch_uid=f"{DISPATCH_PREFIX}.save.{name}")
        post_delete.connect(changed, sender=model, dispatch_uid=f"{DISPATCH_PREFIX}.delete.{name}")
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
        changed, sender=models.Feedback, dispatch_uid=f"{DISPATCH_PREFIX}.delete.feedback"
    )


def feedback_saved(sender, instance, created, using=None, **kwargs):
    """A message arriving in the moderation queue changes no public page (and a flood of
    them must not empty the page cache); publishing, answering and withdrawing do."""
    if created and instance.state == models.Feedback.State.PENDING:
        return
    publication_bump(using or "default")


def partners_changed(sender, action, using=None, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        publication_bump(using or "default")


def migrated(sender, using="default", **kwargs):
    """A deploy runs `migrate`: new code or templates may show the same data differently, so
    pages cached before it (in Redis, which outlives the app servers) must not be served."""
    table = models.PublicationVersion._meta.db_table
    connection = connections[using]
    if table in connection.introspection.table_names():
        bump_now(using)

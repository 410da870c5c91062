"""Celery tasks: thin wrappers that load by id and call a service; safe to run twice."""

from celery import shared_task

from . import tree


@shared_task(ignore_result=True)
def fold_tree() -> int:
    """Fold every uncounted member into the tree counters."""
    return tree.fold_all()

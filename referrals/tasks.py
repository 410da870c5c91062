"""Referrals' Celery tasks, for autodiscovery: each is defined beside the service it runs.

They are thin (load by id, call the service) and safe to run twice. Their
names are part of the beat schedule and of messages already queued, so they
keep the `referrals.tasks.*` names wherever they are defined.
"""

from .outbox import send_outbound_email, sweep_outbox
from .services import activate_returned_member, record_invite_open
from .sightings import forget_old_sightings
from .tree import fold_tree

__all__ = [
    "activate_returned_member",
    "fold_tree",
    "forget_old_sightings",
    "record_invite_open",
    "send_outbound_email",
    "sweep_outbox",
]

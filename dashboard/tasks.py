"""The dashboard's Celery tasks, for autodiscovery: each is defined beside the service it runs.

They keep the `referrals.tasks.*` names they had before the marketer side
became its own app: the beat schedule and messages already queued use them.
"""

from .imports import run_seed_import, sweep_seed_imports
from .stats import refresh_campaign_stats

__all__ = ["refresh_campaign_stats", "run_seed_import", "sweep_seed_imports"]

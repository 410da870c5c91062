"""Webhook tasks, for autodiscovery: defined beside the service they run (services.py)."""

from .services import deliver_webhook, sweep_webhooks

__all__ = ["deliver_webhook", "sweep_webhooks"]

"""Waitlist tasks, for autodiscovery: defined beside the services they run."""

from .admission import run_wave_task, sweep_waves
from .services import sweep_waitlist

__all__ = ["run_wave_task", "sweep_waitlist", "sweep_waves"]

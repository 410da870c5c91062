"""HTTP views, one module per area; short functions over services and tree reads."""

from .public import throttled

__all__ = ["throttled"]

"""The error the vendor normalizers raise (the field helpers they share are in ``fields``)."""

from __future__ import annotations

__all__ = ["NormalizeError"]


class NormalizeError(ValueError):
    """The record is not a usable event of its source; ``str(err)`` is the dead-letter reason."""

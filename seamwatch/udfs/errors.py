"""The error the vendor normalizers raise (the field helpers they share are in ``fields``)."""

from __future__ import annotations

__all__ = ["NormalizeError", "NotOfInterest"]


class NormalizeError(ValueError):
    """The record is not a usable event of its source; ``str(err)`` is the dead-letter reason."""


class NotOfInterest(NormalizeError):
    """A well-formed record that Seamwatch deliberately does not read (a Windows event id or an
    Entra log category no rule uses); ``str(err)`` starts with ``"not of interest: "``.

    Dead-lettered like any :class:`NormalizeError`, so nothing disappears silently, but a
    count of these is not a count of broken input.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(f"not of interest: {detail}")

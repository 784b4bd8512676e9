"""The errors of the per-event logic: the vendor normalizers' (the field helpers they share are
in ``fields``), and the one a state format raises when it meets a version it cannot read."""

from __future__ import annotations

from seamwatch.errors import SeamwatchError

__all__ = ["NormalizeError", "NotOfInterest", "StateFormatError"]


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


class StateFormatError(SeamwatchError, ValueError):
    """State (or a payload kept in state) written in a format version this release cannot read.

    Raised by the decoders of the formats Flink keeps across checkpoints when losing the
    value silently would lose a detection (``seamwatch.udfs.absence``, the open alert of
    ``seamwatch.udfs.alerts``, ``seamwatch.udfs.links``): the job fails with the state's name
    and the version it found, instead of going on without it. Each decoder reads its current
    version and the one before it, so only a savepoint of a newer release (a downgrade) or
    damaged state can raise it.
    """

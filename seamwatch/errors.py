"""The errors a user can act on, under one base class.

Every error that says what is wrong with the user's files, inputs, settings or services
(a rule or identity file, an input path, a broker that does not answer...) derives from
:class:`SeamwatchError`. The command line catches it in one place and prints its message on
one line, with no traceback, and exits with code 2. Errors about one record of the logs are
not among them: those records are dead-lettered and the job goes on
(:mod:`seamwatch.udfs.errors`).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SeamwatchError"]


class SeamwatchError(Exception):
    """An error the user can act on; ``path`` and ``line`` say where, when a file is at fault.

    With a ``path``, the message reads ``path:line: reason`` (``path: reason`` without a line);
    ``reason`` keeps the bare reason. Subclasses that also derive from a built-in exception
    (``ValueError``, ``RuntimeError``) stay catchable as that.
    """

    def __init__(
        self, reason: str = "", *, path: Path | str | None = None, line: int | None = None
    ) -> None:
        self.reason = reason
        self.path = str(path) if path is not None else None
        self.line = line
        if self.path is None:
            super().__init__(reason)
        else:
            where = f"{self.path}:{line}" if line is not None else self.path
            super().__init__(f"{where}: {reason}")

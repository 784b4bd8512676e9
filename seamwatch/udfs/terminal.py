"""Text from the logs made safe to print on a terminal.

Log fields are written by whoever made the logged request: a user name or a user agent can hold
ANSI escape sequences (clear the screen, print a green ``ALL CLEAR``), a right-to-left override
that turns text around, NUL, carriage returns and newlines that start a forged line. Everything
the CLI prints from an alert or a log goes through :func:`terminal_safe`, which writes each such
character as a visible escape (``\\x1b``, ``\\u202e``, ``\\n``). Only the terminal gets the
escaped text: the JSON outputs keep every value exactly as it was.
"""

from __future__ import annotations

import unicodedata

__all__ = ["terminal_safe"]

# Unicode categories a terminal acts on or hides: controls (C0, DEL, C1), format characters
# (bidi overrides and isolates, zero-width characters, soft hyphen), line and paragraph
# separators, lone surrogates, unassigned code points.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Cn"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def terminal_safe(value: object) -> str:
    """``value`` as text with every character a terminal would act on written as an escape."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the common case: nothing to escape (fast, in C)
        return text
    return "".join(
        _escape(c) if c != " " and unicodedata.category(c) in _UNSAFE_CATEGORIES else c
        for c in text
    )

"""Kafka client properties files, read the way the Java clients read them.

The file a user writes for Seamwatch (``--properties``, ``$SEAMWATCH_KAFKA_PROPERTIES``) is the
one their Java Kafka clients already take, in ``java.util.Properties`` syntax. That syntax is
more than ``key=value``: a line ending in a backslash continues on the next one (the usual way
to write a long ``sasl.jaas.config``), keys and values may hold escapes (``\\=``, ``\\:``,
``\\uXXXX``), and a key may be separated from its value by blanks alone. The ``javaproperties``
package (pinned in pyproject.toml) reads all of it as Java does.
"""

from __future__ import annotations

import javaproperties

from seamwatch.errors import SeamwatchError

__all__ = ["PropertiesError", "parse_properties"]


class PropertiesError(SeamwatchError, ValueError):
    """A properties file Java would refuse too (an invalid ``\\uXXXX`` escape)."""


def parse_properties(text: str) -> dict[str, str]:
    """The properties of a ``.properties`` file's text; a key given twice keeps the last value.

    As in Java: ``#`` and ``!`` start comment lines; ``=``, ``:`` or blanks end the key; blanks
    around the separator and at the start of a continuation line are dropped; a key with no
    value has the empty string.
    """
    try:
        values: dict[str, str] = javaproperties.loads(text)
    except javaproperties.InvalidUEscapeError as exc:
        raise PropertiesError(f"invalid Unicode escape {exc.escape!r}") from exc
    return values

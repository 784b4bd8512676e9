"""The fields Flink SQL reads from each vendor record, and the way back to a normalized Event.

The hot path reads the JSON in the JVM: each source table declares, as nested ``ROW`` columns
of Flink's ``json`` format, exactly the fields its normalizer reads (:data:`SOURCE_FIELDS`),
and hands them to the one Python step as a short list of values. That step rebuilds the small
record those values describe (:func:`rebuild`) and runs the normalizer on it, so the fast path
and the plain normalizer agree by construction.

Shapes SQL cannot read the same way (invalid JSON, lower-cased keys, an EventBridge envelope,
a Logstash ``@timestamp``, a placeholder event id whose fallback id hashes the whole record, a
time the normalizer cannot parse...) are recognised when the input is staged
(:func:`sql_readable`) and travel as their raw text instead; the Python step normalizes them
with :func:`seamwatch.udfs.normalize.normalize_text`, exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from seamwatch.udfs.errors import NormalizeError
from seamwatch.udfs.fields import clean_text
from seamwatch.udfs.normalize import NORMALIZERS, normalize_text
from seamwatch.udfs.records import Event, Rejected
from seamwatch.udfs.timeparse import parse_time

__all__ = [
    "RECORD_KEYS",
    "SOURCE_ACTION_FIELD",
    "SOURCE_FIELDS",
    "FieldPath",
    "normalize_fields",
    "read_objects",
    "rebuild",
    "sql_readable",
]


@dataclass(frozen=True, slots=True)
class FieldPath:
    """One field the SQL table reads: its JSON path and its Flink SQL type."""

    path: tuple[str, ...]
    sql_type: str = "STRING"  # "JSON": a STRING column holding the JSON text of a container

    @property
    def column_type(self) -> str:
        """The column's Flink SQL type."""
        return "STRING" if self.sql_type == "JSON" else self.sql_type

    def sql_in(self, table: str | None) -> str:
        """The SQL expression reading it (``T.`userIdentity`.`arn```; a top-level field
        needs no table name, a nested one does, or Calcite reads its head as a table)."""
        keys = ".".join(f"`{key}`" for key in self.path)
        if table is None and len(self.path) > 1:
            return keys
        return keys if table is None else f"{table}.{keys}"


def _paths(*specs: str | tuple[str, str]) -> tuple[FieldPath, ...]:
    out = []
    for spec in specs:
        name, sql_type = (spec, "STRING") if isinstance(spec, str) else spec
        out.append(FieldPath(tuple(name.split(".")), sql_type))
    return tuple(out)


# What each normalizer reads (seamwatch.udfs.cloudtrail / okta), nothing more. A record's
# other fields stay in the JVM and are never parsed in Python.
SOURCE_FIELDS: dict[str, tuple[FieldPath, ...]] = {
    "cloudtrail": _paths(
        "eventName",
        "eventTime",
        "eventID",
        "eventSource",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "errorCode",
        "errorMessage",
        "recipientAccountId",
        "userIdentity.type",
        "userIdentity.arn",
        "userIdentity.accountId",
        "userIdentity.principalId",
        "userIdentity.userName",
        "userIdentity.invokedBy",
        "userIdentity.accessKeyId",
        "userIdentity.accesKeyId",
        "userIdentity.identityProvider",
        "userIdentity.sessionContext.sessionIssuer.arn",
        "userIdentity.sessionContext.sourceIdentity",
        "userIdentity.onBehalfOf.userId",
        "userIdentity.onBehalfOf.identityStoreArn",
        "requestParameters.userName",
        "requestParameters.roleArn",
        "responseElements.subject",
        "responseElements.subjectFromWebIdentityToken",
        "responseElements.assumedRoleUser.arn",
        "responseElements.credentials.accessKeyId",
        "responseElements.accessKey.accessKeyId",
        "responseElements.ConsoleLogin",
    ),
    "okta": _paths(
        "eventType",
        "published",
        "uuid",
        "actor.id",
        "actor.type",
        "actor.alternateId",
        "client.ipAddress",
        "client.userAgent.rawUserAgent",
        "client.geographicalContext.country",
        "client.geographicalContext.city",
        ("client.geographicalContext.geolocation.lat", "DOUBLE"),
        ("client.geographicalContext.geolocation.lon", "DOUBLE"),
        ("securityContext.asNumber", "BIGINT"),
        "securityContext.asOrg",
        "outcome.result",
        "outcome.reason",
        "authenticationContext.externalSessionId",
        # A list of objects: read as its JSON text (Flink gives a container's text for a
        # STRING column; a NULL ARRAY argument fails in thread mode) and parsed in Python.
        ("target", "JSON"),
    ),
}

# Index in SOURCE_FIELDS of the field that names the action (eventName, eventType).
SOURCE_ACTION_FIELD = {"cloudtrail": 0, "okta": 0}
# Per source, the keys of a record's name, time and id as the vendor spells them (what
# sql_readable checks first, and all a staged brief line keeps).
RECORD_KEYS = {
    "cloudtrail": ("eventName", "eventTime", "eventID"),
    "okta": ("eventType", "published", "uuid"),
}


def _children(fields: tuple[FieldPath, ...]) -> dict[tuple[str, ...], frozenset[str]]:
    """For each object the table reads into (the record is ``()``), the keys it reads there."""
    out: dict[tuple[str, ...], set[str]] = {}
    for field in fields:
        for depth in range(len(field.path)):
            out.setdefault(field.path[:depth], set()).add(field.path[depth])
    return {path: frozenset(keys) for path, keys in out.items()}


_READ: dict[str, dict[tuple[str, ...], frozenset[str]]] = {
    source: _children(fields) for source, fields in SOURCE_FIELDS.items()
}
_READ_LOWER: dict[str, dict[tuple[str, ...], frozenset[str]]] = {
    source: {path: frozenset(k.lower() for k in keys) for path, keys in read.items()}
    for source, read in _READ.items()
}


def read_objects(source: str) -> dict[tuple[str, ...], frozenset[str]]:
    """Each object the source's table reads into (its path from the record; ``()`` is the
    record) and the keys it reads there, as :func:`sql_readable` checks them."""
    return dict(_READ[source])


# Per source and object path: the keys read there plus the other key names already found
# harmless (no read key's spelling in another case). A record's keys are then usually one set
# test; up to _HARMLESS_LIMIT names are remembered per object, so odd input cannot grow it.
_HARMLESS: dict[str, dict[tuple[str, ...], set[str]]] = {
    source: {path: set(keys) for path, keys in read.items()} for source, read in _READ.items()
}
_HARMLESS_LIMIT = 4096


def _objects_ok(source: str, doc: dict[str, Any]) -> bool:
    """Every object the table reads into is an object (or absent/null), and none spells a key
    it reads otherwise than the vendor does (the normalizers match keys case-insensitively,
    Flink's json format does not)."""
    lowered = _READ_LOWER[source]
    for path, known in _HARMLESS[source].items():
        node: Any = doc
        for key in path:
            node = node.get(key)
            if node is None:
                break
        else:
            if type(node) is not dict:
                return False
            if not known.issuperset(node):
                wanted = lowered[path]
                for key in node:
                    if key in known:
                        continue
                    if key.lower() in wanted:
                        return False
                    if len(known) < _HARMLESS_LIMIT:
                        known.add(key)
    return True


def sql_readable(source: str, doc: object) -> bool:
    """Whether the source table reads ``doc`` (a parsed record) exactly as its normalizer does.

    True for a record in the vendor's own shape: the name, time and id keys spelled as the
    vendor spells them, a time the normalizer reads, a usable id, and objects where objects
    belong. Everything else goes by the raw path (see the module docstring).
    """
    if type(doc) is not dict or source not in RECORD_KEYS:
        return False
    name_key, time_key, id_key = RECORD_KEYS[source]
    name, time_text, event_id = doc.get(name_key), doc.get(time_key), doc.get(id_key)
    if type(name) is not str or type(time_text) is not str or type(event_id) is not str:
        return False
    # The table filters on the name as written: it must be what the normalizer reads.
    if not name or name != name.strip() or clean_text(event_id) is None:
        return False
    if parse_time(time_text) is None:
        return False
    if source == "cloudtrail":
        if "detail-type" in doc:
            return False
        response = doc.get("responseElements")
        if type(response) is dict and response:
            # Sign-in calls state their result under a key named like the event; the table
            # reads only ConsoleLogin's, and any other spelling goes the raw way.
            lowered = name.lower()
            for key in response:
                if key != "ConsoleLogin" and key.lower() == lowered:
                    return False
    elif doc.get("target") is not None and type(doc["target"]) is not list:
        return False
    return _objects_ok(source, doc)


# Per source, each field's path and whether its value is JSON text (rebuild runs per event).
_REBUILD: dict[str, tuple[tuple[tuple[str, ...], bool], ...]] = {
    source: tuple((field.path, field.sql_type == "JSON") for field in fields)
    for source, fields in SOURCE_FIELDS.items()
}


def rebuild(source: str, values: Sequence[Any]) -> dict[str, Any]:
    """The record the table's values describe: only the fields it read, nulls left out."""
    rec: dict[str, Any] = {}
    for (path, is_json), value in zip(_REBUILD[source], values, strict=True):
        if value is None:
            continue
        if is_json:
            value = orjson.loads(value)
        node = rec
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return rec


def normalize_fields(
    source: str, raw_ref: str, raw: str | None, values: Sequence[Any]
) -> list[Event | Rejected]:
    """Normalize one row of a source table: its raw text when it has one, else its fields.

    Never raises: a failure becomes a :class:`Rejected` with the reason.
    """
    if raw is not None:
        return normalize_text(source, raw, raw_ref)
    rec = rebuild(source, values)
    try:
        return [NORMALIZERS[source](rec, raw_ref)]
    except NormalizeError as err:
        return [Rejected(source, str(err), orjson.dumps(rec).decode(), raw_ref)]
    except Exception as err:  # a bug or a shape we did not foresee: dead-letter it
        reason = f"normalizer failed: {type(err).__name__}: {err}"
        return [Rejected(source, reason, orjson.dumps(rec).decode(), raw_ref)]

"""Avro and JSON encodings of the Kafka records (plain functions, no Flink).

Alerts (``seamwatch/schemas/alert.avsc``) and identity mappings
(``seamwatch/schemas/identity_mapping.avsc``) are written as schemaless Avro binary (fastavro
``schemaless_writer``): no schema registry and no framing, so a consumer decodes a record value
with the same ``.avsc`` file. Dead letters are JSON. The Flink job, ``seamwatch replay`` /
``alerts tail`` and the tests share these functions.

The schemas are package data, read with :mod:`importlib.resources`: they travel with the code
wherever it goes (the zip ``seamwatch submit`` ships to a cluster, an installed wheel, the
container image), never from a path next to a checkout. They are read once, when this module
is imported: in thread mode a task manager keeps its Python interpreter, and the modules it
imported, across job restarts, while Flink deletes the directory the previous attempt's code
was unpacked to, so a file read later through an imported module's path would fail after the
first failover.
"""

from __future__ import annotations

import io
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Literal

import orjson
from fastavro import parse_schema, schemaless_reader, schemaless_writer

from seamwatch.udfs.ocsf import finding_json

SCHEMAS_PACKAGE = "seamwatch"
AlertFormat = Literal["avro", "json", "ocsf"]
ALERT_FORMATS: tuple[AlertFormat, ...] = ("avro", "json", "ocsf")


class DecodeError(ValueError):
    """A record value that is not what its topic's schema says."""


def schema_files() -> dict[str, Traversable]:
    """``name -> seamwatch/schemas/<name>.avsc``, wherever the package was loaded from."""
    directory = resources.files(SCHEMAS_PACKAGE).joinpath("schemas")
    return {
        entry.name.removesuffix(".avsc"): entry
        for entry in directory.iterdir()
        if entry.name.endswith(".avsc")
    }


# Every schema, parsed at import (see the module docstring).
_SCHEMAS: dict[str, Any] = {
    name: parse_schema(orjson.loads(file.read_bytes())) for name, file in schema_files().items()
}


def schema(name: str) -> Any:
    """The parsed schema of ``seamwatch/schemas/<name>.avsc``."""
    try:
        return _SCHEMAS[name]
    except KeyError:
        known = ", ".join(sorted(_SCHEMAS))
        raise KeyError(f"no schema {name!r} in seamwatch/schemas/ ({known})") from None


def avro_encode(name: str, record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    schemaless_writer(out, schema(name), record)
    return out.getvalue()


def avro_decode(name: str, data: bytes) -> dict[str, Any]:
    try:
        record: Any = schemaless_reader(io.BytesIO(data), schema(name), None)
    except Exception as exc:  # fastavro raises EOFError, ValueError, UnicodeDecodeError, ...
        raise DecodeError(f"not a {name} Avro record: {type(exc).__name__}: {exc}") from exc
    if not isinstance(record, dict):
        raise DecodeError(f"not a {name} Avro record: decoded to {type(record).__name__}")
    return record


def encode_alert(alert_json: str, fmt: AlertFormat) -> bytes:
    """An alert (the pipeline's JSON) as the alert topic's record value."""
    if fmt == "json":
        return alert_json.encode()
    if fmt == "ocsf":
        return finding_json(alert_json).encode()
    return avro_encode("alert", orjson.loads(alert_json))


def decode_alert(value: bytes, fmt: AlertFormat) -> dict[str, Any]:
    """An alert topic record value back to the alert dict, times as epoch milliseconds (for
    ``ocsf``: the Detection Finding as written, not an alert)."""
    if fmt in ("json", "ocsf"):
        decoded: dict[str, Any] = orjson.loads(value)
        return decoded
    return avro_alert_times(avro_decode("alert", value))


def avro_alert_times(alert: dict[str, Any]) -> dict[str, Any]:
    """A decoded Avro alert with its times as epoch milliseconds, like the pipeline's JSON."""
    for key in ("first_event_time", "last_event_time", "detected_at"):
        alert[key] = _millis(alert[key])
    for event in alert["events"]:
        event["event_time"] = _millis(event["event_time"])
    return alert


def _millis(value: Any) -> int:
    """fastavro reads ``timestamp-millis`` as an aware datetime; the alert dict holds ms."""
    if isinstance(value, int):
        return value
    millis: int = round(value.timestamp() * 1000)
    return millis


def encode_mapping(entity: dict[str, Any]) -> bytes:
    """An entity (identity-file shape) as an identity-mapping record value."""
    return avro_encode("identity_mapping", entity)


def decode_mapping(key: bytes | None, value: bytes | None) -> tuple[str, str]:
    """An identity-mapping record as the pipeline's update ``(entity_id, entity JSON)``.

    A tombstone (null value) gives ``(key, "")``, which deletes the entity. Raises
    :class:`DecodeError` for a value that is not a mapping, or a tombstone without a key.
    """
    if value is None:
        if not key:
            raise DecodeError("tombstone without a key: no entity to delete")
        return key.decode("utf-8", errors="replace"), ""
    entity = avro_decode("identity_mapping", value)
    return str(entity["id"]), orjson.dumps(entity).decode()


def parse_raw_ref(raw_ref: str) -> tuple[str, int, int] | None:
    """``"<topic>/<partition>@<offset>"`` -> ``(topic, partition, offset)``; None otherwise."""
    where, at, offset = raw_ref.rpartition("@")
    topic, slash, partition = where.rpartition("/")
    if not (at and slash and topic and partition.isdigit() and offset.isdigit()):
        return None
    return topic, int(partition), int(offset)


def dead_letter_record(dead_letter_json: str) -> bytes:
    """The pipeline's dead letter plus the Kafka coordinates of the raw record, as JSON."""
    doc = orjson.loads(dead_letter_json)
    ref = parse_raw_ref(str(doc.get("raw_ref") or "").split("#", 1)[0])
    if ref is not None:
        doc["topic"], doc["partition"], doc["offset"] = ref
    return orjson.dumps(doc)

"""Avro alerts in the Confluent wire format, their schema kept in a schema registry.

A framed record value is the magic byte ``0``, the schema id as 4 bytes big-endian, then the
Avro binary of the alert (the bytes the schemaless encoding writes). Any Confluent-compatible
deserializer reads it: it takes the id, fetches the writer schema from the registry
(``GET /schemas/ids/{id}``) and decodes.

The job registers the alert schema once, from the client before the job starts, under the
subject ``<alert topic>-value`` (Confluent's TopicNameStrategy); registering an identical
schema again returns the same id. The Flink encoder then frames every alert with that id: no
registry call per record.

The registry speaks the Confluent REST API: Confluent Schema Registry, Karapace, Apicurio
Registry's ``/apis/ccompat/v7``, Redpanda. Credentials come from the environment only (they
would land in shell history as arguments): ``SEAMWATCH_SCHEMA_REGISTRY_USERNAME`` and
``SEAMWATCH_SCHEMA_REGISTRY_PASSWORD`` (HTTP basic, e.g. a Confluent Cloud API key and secret),
``SEAMWATCH_SCHEMA_REGISTRY_CA_FILE`` (a PEM bundle for a registry behind a private CA).
"""

from __future__ import annotations

import base64
import io
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from fastavro import parse_schema, schemaless_reader

from seamwatch.errors import SeamwatchError
from seamwatch.kafka.codec import DecodeError, avro_alert_times, avro_encode, schema

MAGIC_BYTE = 0
HEADER_BYTES = 5
ENV_USERNAME = "SEAMWATCH_SCHEMA_REGISTRY_USERNAME"
ENV_PASSWORD = "SEAMWATCH_SCHEMA_REGISTRY_PASSWORD"
ENV_CA_FILE = "SEAMWATCH_SCHEMA_REGISTRY_CA_FILE"
_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class SchemaRegistryError(SeamwatchError, RuntimeError):
    """The registry could not be reached, or refused a request (its message included)."""


@dataclass(frozen=True)
class RegistryClient:
    """The few Confluent REST calls Seamwatch makes (register, schema by id)."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    timeout_seconds: float = 10.0

    @classmethod
    def from_env(cls, url: str, environ: Mapping[str, str] | None = None) -> RegistryClient:
        """A client for ``url``, credentials from the ``SEAMWATCH_SCHEMA_REGISTRY_*`` variables."""
        env = os.environ if environ is None else environ
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise SchemaRegistryError(
                f"schema registry {url!r}: expected http(s)://host[:port]/..."
            )
        if parsed.username or parsed.password:
            raise SchemaRegistryError(
                f"schema registry URL with credentials: set {ENV_USERNAME} and {ENV_PASSWORD} "
                "instead"
            )
        ca_file = env.get(ENV_CA_FILE)
        return cls(
            url=url.rstrip("/"),
            username=env.get(ENV_USERNAME) or None,
            password=env.get(ENV_PASSWORD) or None,
            ca_file=Path(ca_file) if ca_file else None,
        )

    def register(self, subject: str, schema_text: str) -> int:
        """Register an Avro schema under ``subject``; its id (the existing one if identical)."""
        path = f"/subjects/{urllib.parse.quote(subject, safe='')}/versions"
        reply = self._request("POST", path, {"schema": schema_text})
        schema_id = reply.get("id") if isinstance(reply, dict) else None
        if not isinstance(schema_id, int):
            raise SchemaRegistryError(f"{self.url}{path}: no schema id in the reply {reply!r}")
        return schema_id

    def schema_text(self, schema_id: int) -> str:
        """The schema registered under ``schema_id``."""
        path = f"/schemas/ids/{schema_id}"
        reply = self._request("GET", path)
        text = reply.get("schema") if isinstance(reply, dict) else None
        if not isinstance(text, str):
            raise SchemaRegistryError(f"{self.url}{path}: no schema in the reply {reply!r}")
        return text

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else orjson.dumps(body),
            headers={"Accept": _CONTENT_TYPE, "Content-Type": _CONTENT_TYPE},
        )
        if self.username is not None:
            token = base64.b64encode(f"{self.username}:{self.password or ''}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        context = None
        if self.url.startswith("https:"):
            context = ssl.create_default_context(
                cafile=str(self.ca_file) if self.ca_file is not None else None
            )
        try:
            with urllib.request.urlopen(
                request, timeout=self.timeout_seconds, context=context
            ) as response:
                return orjson.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:500].decode("utf-8", errors="replace")
            raise SchemaRegistryError(
                f"schema registry {method} {self.url}{path}: HTTP {exc.code} {detail}"
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SchemaRegistryError(
                f"schema registry {self.url} unreachable ({method} {path}): {reason}"
            ) from exc
        except orjson.JSONDecodeError as exc:
            raise SchemaRegistryError(
                f"schema registry {method} {self.url}{path}: the reply is not JSON"
            ) from exc


def value_subject(topic: str) -> str:
    """The subject of a topic's record values under the TopicNameStrategy."""
    return f"{topic}-value"


def schema_json(name: str) -> str:
    """``seamwatch/schemas/<name>.avsc`` as registered: the parsed schema as JSON (names made
    full, docs and logical types kept), without fastavro's own bookkeeping keys."""
    return orjson.dumps(_without_hints(schema(name))).decode()


def _without_hints(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_hints(v) for k, v in node.items() if not k.startswith("__")}
    if isinstance(node, list):
        return [_without_hints(v) for v in node]
    return node


def register_alert_schema(client: RegistryClient, alert_topic: str) -> int:
    """Register the alert schema for ``alert_topic``'s values; the id to frame alerts with."""
    return client.register(value_subject(alert_topic), schema_json("alert"))


def frame(schema_id: int, payload: bytes) -> bytes:
    """The Confluent wire format: magic byte, 4-byte big-endian schema id, payload."""
    return bytes([MAGIC_BYTE]) + schema_id.to_bytes(4, "big") + payload


def unframe(value: bytes) -> tuple[int, bytes]:
    """``(schema id, payload)`` of a framed value; :class:`DecodeError` for anything else."""
    if len(value) < HEADER_BYTES or value[0] != MAGIC_BYTE:
        raise DecodeError(
            "not in the Confluent wire format (magic byte 0 and a 4-byte schema id): "
            f"{len(value)} bytes starting {value[:HEADER_BYTES].hex() or '(empty)'}"
        )
    return int.from_bytes(value[1:HEADER_BYTES], "big"), value[HEADER_BYTES:]


def encode_framed_alert(alert_json: str, schema_id: int) -> bytes:
    """An alert (the pipeline's JSON) as a framed Avro record value."""
    return frame(schema_id, avro_encode("alert", orjson.loads(alert_json)))


class FramedAlertDecoder:
    """Decodes framed alerts: the writer schema from the registry (once per id), read into this
    version's alert schema (Avro schema resolution), times as epoch milliseconds."""

    def __init__(self, client: RegistryClient) -> None:
        self.client = client
        self._writers: dict[int, Any] = {}

    def writer_schema(self, schema_id: int) -> Any:
        if schema_id not in self._writers:
            text = self.client.schema_text(schema_id)
            self._writers[schema_id] = parse_schema(orjson.loads(text))
        return self._writers[schema_id]

    def __call__(self, value: bytes) -> dict[str, Any]:
        schema_id, payload = unframe(value)
        writer = self.writer_schema(schema_id)
        try:
            record: Any = schemaless_reader(io.BytesIO(payload), writer, schema("alert"))
        except Exception as exc:  # fastavro raises EOFError, ValueError, SchemaResolutionError
            raise DecodeError(
                f"not an alert of schema id {schema_id}: {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(record, dict):
            raise DecodeError(f"schema id {schema_id} decoded to {type(record).__name__}")
        return avro_alert_times(record)

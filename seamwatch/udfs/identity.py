"""Identity resolution v1: one canonical entity behind every identifier.

Inputs: the static identity graph (``identities.yaml``, see ``docs/identities.md``), live
mapping updates (the identity-mapping topic on Kafka runs), and the identifiers the
normalizers derived from each record (strongest first). :func:`resolve` is a plain function;
the Flink operator around it only supplies the graph and the updates.

Resolution order:

1. ``static``: an identifier of the event is listed in the graph (confidence 1.0; 0.9 when the
   identifier was derived by a normalizer, e.g. an email taken from a role-session name).
2. ``normalized``: no graph entry, but the event carries an email address (an Okta login that is
   one, too); the entity is ``email:<address>``, so Okta and CloudTrail still meet on it
   (confidence 0.6). With :class:`OktaUserKeys`, an unlisted Okta user keeps the first such
   entity its ``actor.id`` was seen with across a login rename.
3. ``unresolved``: the strongest identifier keeps its own key ``unresolved:<kind>:<value>``;
   never a shared NULL or "unknown" key, which would pile every stranger onto one partition.
"""

from __future__ import annotations

import csv
import io
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from seamwatch.udfs.records import EntityType, Event, Identifier
from seamwatch.yamlfile import ConfigError, Locator, load_yaml, validation_error

IdentifierKind = Literal[
    "okta_user_id",
    "okta_login",
    "email",
    "aws_arn",
    "aws_role_session",
    "aws_access_key",
    "aws_principal_id",
    "aws_account",
    "aws_service",
    "entra_object_id",
    "entra_upn",
    "entra_app_id",
    "ad_sam",
    "ad_sid",
    "ad_account",
]

# Kinds the normalizers give non-person actors (Okta PublicClientApp, SystemPrincipal, and the
# address of a ThreatInsight "IP address" actor): events and alerts carry them, but the graph
# file does not take them.
NORMALIZER_KINDS: tuple[str, ...] = ("okta_client", "okta_system", "ip")

# Kinds that name the same namespace: an Okta login is an email address.
_KIND_ALIASES = {"okta_login": "email", "entra_upn": "email"}
# Identifiers that a normalizer derived rather than read verbatim from the record.
_DERIVED_KINDS = frozenset({"email", "aws_role_session"})
_CASE_FOLDED_KINDS = frozenset(
    {
        "email",
        "okta_login",
        "entra_upn",
        "aws_role_session",
        "ad_sam",
        # DOMAIN\sam: Windows compares both parts without case; Entra GUIDs likewise.
        "ad_account",
        "entra_object_id",
        "entra_app_id",
    }
)


def index_key(kind: str, value: str) -> str:
    """The lookup key of an identifier: aliases merged, case folded where case means nothing."""
    canonical = _KIND_ALIASES.get(kind, kind)
    folded = value.strip().lower() if kind in _CASE_FOLDED_KINDS else value.strip()
    return f"{canonical}:{folded}"


class IdentifierSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: IdentifierKind
    value: str = Field(min_length=1)


class EntitySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^[^\s]+$")
    type: Literal["human", "service"]
    name: str | None = None
    identifiers: list[IdentifierSpec] = Field(min_length=1)


class IdentityFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    entities: list[EntitySpec]

    @field_validator("entities")
    @classmethod
    def _unique_ids(cls, entities: list[EntitySpec]) -> list[EntitySpec]:
        seen: set[str] = set()
        for entity in entities:
            if entity.id in seen:
                raise ValueError(f"entity id {entity.id!r} is listed twice")
            seen.add(entity.id)
        return entities


@dataclass(frozen=True, slots=True)
class Entity:
    """A canonical entity of the graph."""

    id: str
    type: EntityType
    name: str | None
    identifiers: tuple[Identifier, ...]


@dataclass(slots=True)
class IdentityGraph:
    """Entities and an index from identifier key to entity id.

    Mutable only through :meth:`upsert` / :meth:`remove` (live mapping updates).
    """

    entities: dict[str, Entity] = field(default_factory=dict)
    index: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_entities(cls, entities: Iterable[Entity]) -> IdentityGraph:
        graph = cls()
        for entity in entities:
            graph.upsert(entity)
        return graph

    def upsert(self, entity: Entity) -> None:
        self.remove(entity.id)
        self.entities[entity.id] = entity
        for ident in entity.identifiers:
            self.index[index_key(ident.kind, ident.value)] = entity.id

    def remove(self, entity_id: str) -> None:
        old = self.entities.pop(entity_id, None)
        if old is None:
            return
        for ident in old.identifiers:
            key = index_key(ident.kind, ident.value)
            if self.index.get(key) == entity_id:
                del self.index[key]

    def lookup(self, ident: Identifier) -> Entity | None:
        entity_id = self.index.get(index_key(ident.kind, ident.value))
        return self.entities.get(entity_id) if entity_id is not None else None


def load_identity_file(path: Path) -> IdentityGraph:
    """Load and validate an identity graph file; errors carry file, line and reason.

    YAML (``entities: [...]``) or CSV (:func:`read_identity_csv`), by the file's suffix. An
    identifier claimed by two entities is refused: resolution would depend on file order.
    """
    if path.suffix.lower() == ".csv":
        data, locator = read_identity_csv(path)
    else:
        data, locator = load_yaml(path)
    try:
        parsed = IdentityFile.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, locator) from exc
    owners: dict[str, str] = {}
    entities = []
    for i, spec in enumerate(parsed.entities):
        for j, ident in enumerate(spec.identifiers):
            key = index_key(ident.kind, ident.value)
            if key in owners and owners[key] != spec.id:
                raise locator.error(
                    ("entities", i, "identifiers", j),
                    f"identifier {key!r} of {spec.id!r} already belongs to {owners[key]!r}",
                )
            owners[key] = spec.id
        entities.append(
            Entity(
                id=spec.id,
                type=spec.type,
                name=spec.name,
                identifiers=tuple(Identifier(i.kind, i.value) for i in spec.identifiers),
            )
        )
    return IdentityGraph.from_entities(entities)


_CSV_FIXED = ("id", "type", "name")
IDENTIFIER_KINDS: tuple[str, ...] = IdentifierKind.__args__  # type: ignore[attr-defined]


def read_identity_csv(path: Path) -> tuple[dict[str, Any], Locator]:
    """An HR or IdP export as identity-file data.

    The header names the columns: ``id`` and ``type`` (human or service) are required,
    ``name`` is optional, every other column is an identifier kind (``email``,
    ``okta_user_id``, ``aws_arn``, ...). A cell may hold several values separated by ``;``;
    empty cells are skipped. Errors point at the CSV line.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror or exc}") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        raise ConfigError(path, 1, "the file is empty")
    missing = [c for c in ("id", "type") if c not in header]
    if missing:
        raise ConfigError(path, 1, f"missing column(s) {', '.join(missing)} in the header")
    unknown = [c for c in header if c not in _CSV_FIXED and c not in IDENTIFIER_KINDS]
    if unknown:
        known = ", ".join(IDENTIFIER_KINDS)
        raise ConfigError(path, 1, f"unknown column {unknown[0]!r}; identifier kinds: {known}")
    lines: dict[tuple[str | int, ...], int] = {(): 1}
    entities: list[dict[str, Any]] = []
    for row in reader:
        cells = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        index = len(entities)
        lines[("entities", index)] = reader.line_num
        identifiers = []
        for column in header:
            if column in _CSV_FIXED:
                continue
            for value in cells.get(column, "").split(";"):
                if value.strip():
                    identifiers.append({"kind": column, "value": value.strip()})
        entity: dict[str, Any] = {
            "id": cells.get("id", ""),
            "type": cells.get("type", ""),
            "identifiers": identifiers,
        }
        if cells.get("name"):
            entity["name"] = cells["name"]
        entities.append(entity)
    return {"entities": entities}, Locator(path, lines)


def entity_from_mapping(doc: Mapping[str, object]) -> Entity:
    """An entity from one mapping record (same shape as an ``entities`` item)."""
    spec = EntitySpec.model_validate(doc)
    return Entity(
        id=spec.id,
        type=spec.type,
        name=spec.name,
        identifiers=tuple(Identifier(i.kind, i.value) for i in spec.identifiers),
    )


def _fallback_type(event: Event) -> EntityType:
    if event.principal_type == "AWSService" or any(
        i.kind == "aws_service" for i in event.identifiers[:1]
    ):
        return "aws_service"
    return "unknown"


OKTA_USER_KEYS_CAPACITY = 1_000_000  # about 240 bytes an id: some 240 MB when full


class OktaUserKeys:
    """Learned ``okta actor.id -> entity key`` of Okta users the identity graph does not list.

    An unlisted Okta user whose login is an address resolves to ``email:<login>`` (the key AWS
    sessions named after the address share); a renamed login would make it a second entity.
    The first such key seen for an Okta id is kept, and later events of the id under another
    login resolve to it. Only keys the graph never resolved are learned (the ``normalized``
    ones), so a mapping the identity topic deletes is not kept alive here; a key whose address
    the graph has since listed is dropped and learned again. Bounded: the least recently used
    id leaves when ``capacity`` is reached. Per worker, not checkpointed (docs/identities.md).
    """

    def __init__(self, capacity: int = OKTA_USER_KEYS_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._keys: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, okta_id: object) -> bool:
        return okta_id in self._keys

    def forget(self, okta_id: str) -> None:
        self._keys.pop(okta_id, None)

    def key_for(self, okta_id: str, entity_id: str, graph: IdentityGraph) -> str:
        """The entity key of an unlisted Okta user's event that normalized to ``entity_id``."""
        learned = self._keys.get(okta_id)
        if learned is not None and learned not in graph.index:
            self._keys.move_to_end(okta_id)
            return learned
        # First seen (or the learned address is the graph's now): this event's key is kept.
        self._keys[okta_id] = entity_id
        self._keys.move_to_end(okta_id)
        if len(self._keys) > self.capacity:
            self._keys.popitem(last=False)
        return entity_id


def _okta_user_id(event: Event) -> str | None:
    for ident in event.identifiers:
        if ident.kind == "okta_user_id":
            return ident.value
    return None


def resolve(event: Event, graph: IdentityGraph, okta_keys: OktaUserKeys | None = None) -> Event:
    """Fill the entity fields of ``event`` (in place, and return it).

    ``okta_keys``: the learned keys of unlisted Okta users (the job's resolver holds one);
    without it, each login of such a user is its own ``email:`` entity.
    """
    for ident in event.identifiers:
        entity = graph.lookup(ident)
        if entity is not None:
            if okta_keys is not None:
                # Listed: the graph decides, and nothing learned before outlives a later delete.
                okta_id = _okta_user_id(event)
                if okta_id is not None:
                    okta_keys.forget(okta_id)
            event.entity_id = entity.id
            event.entity_type = entity.type
            event.entity_name = entity.name
            event.resolved_by = "static"
            event.resolved_via = f"{ident.kind}:{ident.value}"
            event.confidence = 0.9 if ident.kind in _DERIVED_KINDS else 1.0
            return event
    for ident in event.identifiers:
        # An address, not any login: an Okta login such as "jdoe" names no mailbox that an AWS
        # session could be named after, and its user stays keyed by its Okta id (a login can
        # be renamed, the id cannot).
        if _KIND_ALIASES.get(ident.kind, ident.kind) == "email" and "@" in ident.value:
            event.entity_id = index_key("email", ident.value)
            event.entity_type = "unknown"
            event.resolved_by = "normalized"
            event.resolved_via = f"{ident.kind}:{ident.value}"
            event.confidence = 0.6
            okta_id = _okta_user_id(event) if okta_keys is not None else None
            if okta_keys is not None and okta_id is not None:
                key = okta_keys.key_for(okta_id, event.entity_id, graph)
                if key != event.entity_id:  # a renamed login: the id's first entity
                    event.entity_id = key
                    event.resolved_via = f"okta_user_id:{okta_id}"
            return event
    if event.identifiers:
        strongest = event.identifiers[0]
        key = f"unresolved:{strongest.kind}:{strongest.value}"
        via: str | None = f"{strongest.kind}:{strongest.value}"
    elif event.principal:
        key = f"unresolved:principal:{event.principal}"
        via = None
    else:
        key = f"unresolved:event:{event.source}:{event.event_id}"
        via = None
    event.entity_id = key
    event.entity_type = _fallback_type(event)
    event.resolved_by = "unresolved"
    event.resolved_via = via
    event.confidence = 0.0
    return event


__all__ = [
    "IDENTIFIER_KINDS",
    "NORMALIZER_KINDS",
    "OKTA_USER_KEYS_CAPACITY",
    "ConfigError",
    "Entity",
    "IdentityGraph",
    "OktaUserKeys",
    "entity_from_mapping",
    "index_key",
    "load_identity_file",
    "resolve",
]

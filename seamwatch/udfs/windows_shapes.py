"""Read a Windows event as the shippers export it: one view whatever the producer.

Producers (``docs/sources/windows.md``):

* **EVTX as JSON** (the Rust ``evtx`` parser's ``records_json()``, also ``xmltodict`` output of
  the XML): ``{"Event": {"System": {...}, "EventData": {...} | "UserData": {...}}}``; event data
  may also be a list of ``{"@Name"|"#attributes": {"Name"}, "#text"}`` items.
* **Winlogbeat / Elastic Agent (ECS)**: ``@timestamp``, ``winlog.{event_id, channel,
  computer_name, provider_name, record_id, event_data{}}``, ``event.code``.
* **Winlogbeat 6**: ``@timestamp``, ``event_id``, ``log_name``, ``computer_name``,
  ``source_name``, ``record_number``, ``event_data{}``.
* **NXLog** ``im_msvistalog`` JSON (often through Logstash): ``EventID``, ``EventTime``,
  ``Hostname``, ``Channel``, ``SourceName``, ``RecordNumber``, the event data as top-level
  fields. ``EventTime`` is the collector's local time without a zone (see :func:`_nxlog_time`).
* **Flat exports** (``TimeCreated`` ISO-8601, ``Hostname``, top-level event data) and **Log
  Analytics** ``SecurityEvent`` rows (``TimeGenerated``, ``Computer``, ``EventSourceName``,
  top-level event data or an ``EventData`` XML string).

``EventID`` may be a number, a string, or an object with ``Qualifiers`` and ``#text``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from seamwatch.udfs.errors import NormalizeError
from seamwatch.udfs.fields import as_map, text
from seamwatch.udfs.timeparse import parse_time

__all__ = ["WindowsRecord", "read_windows_record"]

# <Data Name="TargetUserName">jsmith</Data> inside an EventData XML string (Log Analytics).
_XML_DATA = re.compile(r'<Data\s+Name\s*=\s*"([^"]+)"\s*(?:/>|>(.*?)</Data>)', re.DOTALL)
# Time zones are whole quarter hours; a collector-to-shipper delay above this is not trusted.
_QUARTER_HOUR_MS = 15 * 60 * 1000
_MAX_SHIPPING_DELAY_MS = 2 * 60 * 1000
_MAX_OFFSET_MS = 14 * 60 * 60 * 1000


class WindowsRecord(NamedTuple):
    """What every producer says of one event, in one shape."""

    event_id: int
    event_time: int  # epoch milliseconds, UTC
    host: str | None  # Computer / Hostname as written
    channel: str | None
    provider: str | None
    record_id: str | None
    data: Mapping[str, Any]  # the event data fields by their Windows names


def _event_id(value: object) -> int | None:
    if isinstance(value, Mapping):
        value = value.get("#text", value.get("value"))
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    digits = text(value)
    if digits is not None and digits.isascii() and digits.isdigit():
        return int(digits)
    return None


def _attribute(node: object, name: str) -> object:
    """``node["#attributes"][name]`` (evtx) or ``node["@" + name]`` (xmltodict)."""
    if not isinstance(node, Mapping):
        return None
    attributes = node.get("#attributes")
    if isinstance(attributes, Mapping) and name in attributes:
        return attributes[name]
    return node.get("@" + name)


def _data_items(node: object) -> dict[str, Any]:
    """Event data fields of an EVTX ``EventData`` / ``UserData`` child, as a flat dict."""
    if isinstance(node, list):
        named: dict[str, Any] = {}
        for item in node:
            name = _attribute(item, "Name")
            if isinstance(name, str) and isinstance(item, Mapping):
                named[name] = item.get("#text")
        return named
    if not isinstance(node, Mapping):
        return {}
    items = node.get("Data")
    if items is not None and all(k in ("Data", "#attributes") or k[:1] == "@" for k in node):
        return _data_items(items if isinstance(items, list) else [items])
    out = {k: v for k, v in node.items() if k != "#attributes" and k[:1] != "@"}
    if len(out) == 1:
        # UserData wraps its fields in one element named after the event (LogFileCleared).
        (only,) = out.values()
        if isinstance(only, Mapping):
            return _data_items(only)
    return out


def _xml_data(value: str) -> dict[str, Any]:
    return {
        name: html.unescape(body.strip()) if body is not None else None
        for name, body in _XML_DATA.findall(value)
    }


def _evtx(event: Mapping[str, Any]) -> WindowsRecord:
    system = as_map(event.get("System")) or {}
    created = as_map(system.get("TimeCreated"))
    moment = _attribute(created, "SystemTime") if created is not None else None
    event_time = parse_time(moment)
    event_id = _event_id(system.get("EventID"))
    if event_id is None:
        raise NormalizeError("not a Windows event: Event.System.EventID missing")
    if event_time is None:
        raise NormalizeError(f"no usable event time: TimeCreated.SystemTime={moment!r}")
    data = _data_items(event.get("EventData"))
    if not data:
        data = _data_items(event.get("UserData"))
    return WindowsRecord(
        event_id,
        event_time,
        text(system.get("Computer")),
        text(system.get("Channel")),
        text(_attribute(system.get("Provider"), "Name")),
        text(system.get("EventRecordID")),
        data,
    )


def _beat(rec: Mapping[str, Any], winlog: Mapping[str, Any] | None) -> WindowsRecord:
    """Winlogbeat 7+/Elastic Agent (``winlog{}``) or Winlogbeat 6 (top-level)."""
    source = winlog if winlog is not None else rec
    event_id = _event_id(source.get("event_id"))
    if event_id is None:
        ecs_event = as_map(rec.get("event"))
        event_id = _event_id(ecs_event.get("code")) if ecs_event is not None else None
    if event_id is None:
        raise NormalizeError("not a Windows event: no event_id")
    stamp = rec.get("@timestamp")
    event_time = parse_time(stamp)
    if event_time is None:
        raise NormalizeError(f"no usable event time: @timestamp={stamp!r}")
    host = text(source.get("computer_name"))
    if host is None:
        host_map = as_map(rec.get("host"))
        host = text(host_map.get("name")) if host_map is not None else None
    return WindowsRecord(
        event_id,
        event_time,
        host,
        text(source.get("channel" if winlog is not None else "log_name")),
        text(source.get("provider_name" if winlog is not None else "source_name")),
        text(source.get("record_id" if winlog is not None else "record_number")),
        as_map(source.get("event_data")) or {},
    )


def _nxlog_time(rec: Mapping[str, Any], local: int) -> int:
    """NXLog's ``EventTime`` (``local``: the zone-less time read as if UTC) in UTC.

    NXLog writes ``EventTime`` and ``EventReceivedTime`` in the collector's local time without
    a zone. When a shipper added its own UTC ``@timestamp`` at reception (Logstash), the
    difference between ``EventReceivedTime`` and ``@timestamp``, rounded to the quarter hour,
    is the collector's UTC offset; it is trusted only when the rounding moves it by less than
    two minutes (a prompt shipper). Otherwise ``EventTime`` is read as UTC: configure NXLog to
    write a zone (``$EventTime = strftime($EventTime, '%Y-%m-%dT%H:%M:%S%z')``) to be exact.
    """
    received = parse_time(rec.get("EventReceivedTime"))
    shipped = parse_time(rec.get("@timestamp"))
    if received is None or shipped is None:
        return local
    difference = received - shipped
    offset = round(difference / _QUARTER_HOUR_MS) * _QUARTER_HOUR_MS
    if abs(difference - offset) > _MAX_SHIPPING_DELAY_MS or abs(offset) > _MAX_OFFSET_MS:
        return local
    return local - offset


def _flat(rec: Mapping[str, Any]) -> WindowsRecord:
    """NXLog, flat exports and Log Analytics rows: the event data at the top level."""
    event_id = _event_id(rec.get("EventID"))
    if event_id is None:
        raise NormalizeError("not a Windows event: no EventID")
    event_time: int | None = None
    seen: list[str] = []
    for key in ("EventTime", "TimeCreated", "TimeGenerated", "@timestamp"):
        value = rec.get(key)
        if value is None:
            continue
        event_time = parse_time(value)
        if event_time is not None:
            if key == "EventTime" and type(value) is str and _zoneless(value):
                event_time = _nxlog_time(rec, event_time)
            break
        seen.append(f"{key}={value!r}")
    if event_time is None:
        detail = ", ".join(seen) if seen else "missing EventTime / TimeCreated / TimeGenerated"
        raise NormalizeError(f"no usable event time: {detail}")
    data: Mapping[str, Any] = rec
    embedded = rec.get("EventData")
    if isinstance(embedded, str) and "<Data" in embedded:
        data = {**rec, **_xml_data(embedded)}
    elif isinstance(embedded, Mapping):
        data = {**rec, **_data_items(embedded)}
    return WindowsRecord(
        event_id,
        event_time,
        text(rec.get("Hostname")) or text(rec.get("Computer")),
        text(rec.get("Channel")) or text(rec.get("EventLog")),
        text(rec.get("SourceName")) or text(rec.get("EventSourceName")) or text(rec.get("Source")),
        text(rec.get("RecordNumber")) or text(rec.get("EventRecordID")),
        data,
    )


def _zoneless(value: str) -> bool:
    """True for ``YYYY-MM-DD HH:MM:SS[.f]`` without ``Z`` or an offset."""
    tail = value.strip()[10:]
    return not (tail.endswith(("Z", "z")) or "+" in tail or tail.count("-") > 0)


def read_windows_record(rec: Mapping[str, Any]) -> WindowsRecord:
    """The common view of one exported Windows event (any producer of the module doc).

    Raises :class:`~seamwatch.udfs.errors.NormalizeError` when ``rec`` has no event id or no
    usable time.
    """
    event = as_map(rec.get("Event"))
    if event is not None and "System" in event:
        return _evtx(event)
    winlog = as_map(rec.get("winlog"))
    if winlog is not None:
        return _beat(rec, winlog)
    if "event_data" in rec or "event_id" in rec:
        return _beat(rec, None)
    return _flat(rec)

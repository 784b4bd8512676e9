"""Kafka configuration shared by the job and the tools: topic names, client properties (from
a Java properties file and ``SEAMWATCH_KAFKA_*`` variables, secrets masked when printed), and
the error a bad setting raises."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from seamwatch.errors import SeamwatchError
from seamwatch.kafka.properties import parse_properties

ENV_PREFIX = "SEAMWATCH_KAFKA_"
ENV_PROPERTIES_FILE = "SEAMWATCH_KAFKA_PROPERTIES"
_SECRET_HINTS = ("password", "secret", "jaas", "token", "credential")


class KafkaConfigError(SeamwatchError, ValueError):
    pass


@dataclass(frozen=True)
class KafkaTopics:
    """Topic names (defaults documented in docs/kafka.md)."""

    okta: str = "seamwatch.okta"
    cloudtrail: str = "seamwatch.cloudtrail"
    identities: str = "seamwatch.identity-mappings"
    alerts: str = "seamwatch.alerts"
    dead_letters: str = "seamwatch.dead-letters"
    late_events: str = "seamwatch.late-events"
    entra: str = "seamwatch.entra"
    windows: str = "seamwatch.windows"

    def sources(self) -> dict[str, str]:
        """Log source -> topic, for every log source (which ones a run reads:
        :attr:`KafkaSettings.sources`)."""
        return {
            "okta": self.okta,
            "cloudtrail": self.cloudtrail,
            "entra": self.entra,
            "windows": self.windows,
        }


class ClientProperties(Mapping[str, str]):
    """Kafka client properties; ``repr``/``str`` mask values whose key looks secret."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(values or {})

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    @staticmethod
    def is_secret(key: str) -> bool:
        return any(hint in key.lower() for hint in _SECRET_HINTS)

    def redacted(self) -> dict[str, str]:
        return {k: ("***" if self.is_secret(k) else v) for k, v in self._values.items()}

    def __repr__(self) -> str:
        return f"ClientProperties({self.redacted()!r})"

    __str__ = __repr__


def load_client_properties(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> ClientProperties:
    """Properties from a file (``path`` or ``$SEAMWATCH_KAFKA_PROPERTIES``), then the env.

    ``SEAMWATCH_KAFKA_SASL_MECHANISM=PLAIN`` sets ``sasl.mechanism``: the name after the prefix,
    lower-cased, ``_`` read as ``.`` (Kafka client keys have no underscores). Environment
    values override the file.
    """
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    file = path or (Path(env[ENV_PROPERTIES_FILE]) if env.get(ENV_PROPERTIES_FILE) else None)
    if file is not None:
        try:
            values.update(parse_properties(file.read_text(encoding="utf-8")))
        except OSError as exc:
            raise KafkaConfigError(f"{file}: {exc.strerror or exc}") from exc
        except KafkaConfigError as exc:
            raise KafkaConfigError(f"{file}: {exc}") from exc
    for name, value in env.items():
        if name.startswith(ENV_PREFIX) and name != ENV_PROPERTIES_FILE:
            values[name[len(ENV_PREFIX) :].lower().replace("_", ".")] = value
    values.pop("bootstrap.servers", None)  # --kafka BOOTSTRAP is the one source of it
    return ClientProperties(values)

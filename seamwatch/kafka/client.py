"""Java Kafka client properties as confluent-kafka (librdkafka) reads them.

The job's Kafka connector and the client-side tools (:mod:`seamwatch.kafka.tools`, the identity
topic reader) take the same client properties; this module translates the few that librdkafka
spells differently. It imports nothing of the project, so both sides can use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["librdkafka_config"]

_JAAS_FIELD = re.compile(r'(username|password)\s*=\s*"((?:[^"\\]|\\.)*)"')
_PASSTHROUGH = (
    "security.protocol",
    "sasl.mechanism",
    "ssl.endpoint.identification.algorithm",
    "client.id",
)


def librdkafka_config(bootstrap: str, properties: Mapping[str, str]) -> dict[str, Any]:
    """Java Kafka client properties -> confluent-kafka configuration.

    Carries over the security protocol and SASL mechanism, takes the username and password out
    of ``sasl.jaas.config`` (PLAIN / SCRAM) and PEM trust and key stores as file locations.
    """
    conf: dict[str, Any] = {"bootstrap.servers": bootstrap}
    for key in _PASSTHROUGH:
        if key in properties:
            conf[key] = properties[key]
    if "sasl.jaas.config" in properties:
        fields = dict(_JAAS_FIELD.findall(properties["sasl.jaas.config"]))
        if "username" in fields:
            conf["sasl.username"] = fields["username"]
        if "password" in fields:
            conf["sasl.password"] = fields["password"]
    if properties.get("ssl.truststore.type", "").upper() == "PEM":
        conf["ssl.ca.location"] = properties["ssl.truststore.location"]
    if properties.get("ssl.keystore.type", "").upper() == "PEM":
        conf["ssl.certificate.location"] = properties["ssl.keystore.location"]
        conf["ssl.key.location"] = properties["ssl.keystore.location"]
        if "ssl.key.password" in properties:
            conf["ssl.key.password"] = properties["ssl.key.password"]
    return conf

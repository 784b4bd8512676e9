"""The identity-mapping topic's records as the resolver applies them (no Flink, no broker).

``LiveIdentityGraph`` without a topic is the static graph; the decoding of topic records into
updates or dead letters is checked on plain stand-ins for confluent-kafka messages.
"""

from __future__ import annotations

import gc
import uuid
import weakref
from dataclasses import dataclass

import orjson
import pytest

from seamwatch.kafka import identity_topic
from seamwatch.kafka.client import librdkafka_config
from seamwatch.kafka.codec import avro_encode, encode_mapping
from seamwatch.kafka.config import KafkaTopics
from seamwatch.kafka.identity_topic import BadMapping, IdentityTopic, LiveIdentityGraph, _decode
from seamwatch.kafka.tools import create_topics
from seamwatch.udfs.identity import Entity, IdentityGraph
from seamwatch.udfs.records import Identifier
from tests.kafka_broker import KafkaBroker

ZOE = {
    "id": "zoe.contractor",
    "type": "human",
    "name": "Zoe Contractor",
    "identifiers": [{"kind": "email", "value": "zoe.quinn@example.com"}],
}


@dataclass
class Message:
    """The few ``confluent_kafka.Message`` methods the reader calls."""

    key_: bytes | None
    value_: bytes | None
    offset_: int = 7

    def key(self) -> bytes | None:
        return self.key_

    def value(self) -> bytes | None:
        return self.value_

    def topic(self) -> str:
        return "ids"

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self.offset_


def test_an_upsert_decodes_to_the_entity_json() -> None:
    update = _decode(Message(b"zoe.contractor", encode_mapping(ZOE)))
    assert not isinstance(update, BadMapping)
    assert update[0] == "zoe.contractor"
    assert orjson.loads(update[1])["identifiers"] == ZOE["identifiers"]


def test_a_tombstone_deletes_by_key() -> None:
    assert _decode(Message(b"zoe.contractor", None)) == ("zoe.contractor", "")


def test_records_that_are_not_mappings_become_dead_letters_with_their_coordinates() -> None:
    garbage = _decode(Message(b"k", b"\x02not avro at all", offset_=3))
    keyless_tombstone = _decode(Message(None, None))
    # Valid Avro, but not a valid entity: the graph file's rules apply to the topic too.
    bad_type = _decode(Message(b"x", avro_encode("identity_mapping", {**ZOE, "type": "robot"})))
    for item in (garbage, keyless_tombstone, bad_type):
        assert isinstance(item, BadMapping)
        assert item.reason
    assert isinstance(garbage, BadMapping)
    letter = orjson.loads(garbage.dead_letter_json())
    assert letter["source"] == "identity-mapping"
    assert letter["raw_ref"] == "ids/0@3"


def test_without_a_topic_the_live_graph_is_a_copy_of_the_static_one() -> None:
    static = IdentityGraph()
    static.upsert(Entity("ann", "human", "Ann", (Identifier("email", "ann@example.com"),)))
    live = LiveIdentityGraph(static, None)
    assert live.open() == [] and live.refresh() == []
    live.graph.remove("ann")
    assert "ann" in static.entities


@pytest.mark.kafka
def test_a_reader_whose_graph_was_dropped_unclosed_is_kept_from_the_garbage_collector(
    kafka_broker: KafkaBroker,
) -> None:
    """A cancelled Flink job never calls its functions' ``close``; its consumer, freed or
    closed afterwards in the embedded Python, hangs librdkafka forever. It must stay alive."""
    topics = KafkaTopics(identities=f"ids-{uuid.uuid4().hex[:8]}")
    conf = librdkafka_config(kafka_broker.bootstrap, {})
    create_topics(conf, topics)
    spec = IdentityTopic(conf, topics.identities, catch_up_timeout_seconds=30)
    dropped = LiveIdentityGraph(IdentityGraph(), spec)
    dropped.open()
    orphan = dropped._reader
    assert orphan is not None
    freed = weakref.ref(orphan)
    del dropped, orphan
    gc.collect()
    kept = freed()
    assert kept is not None and kept in identity_topic._OPEN_READERS
    following = LiveIdentityGraph(IdentityGraph(), spec)
    following.open()
    assert kept in identity_topic._OPEN_READERS  # the next open leaves it alone
    assert kept._consumer.poll(0) is None  # not closed: still a working consumer
    following.close()  # the normal way: closed and forgotten
    assert following._reader is None and len(identity_topic._OPEN_READERS) == 1
    assert [kept] == identity_topic._OPEN_READERS
    identity_topic._OPEN_READERS.remove(kept)
    kept.close()  # the broker is still up here: a test may close it

"""The compacted identity-mapping topic, read by the resolver itself (Kafka runs only).

Each resolver subtask reads the whole topic with its own consumer: first to the end, before
it resolves its first event, then again every half second or so while events flow. The topic
is compacted, so reading it from the beginning *is* its state, and a restarted job rebuilds
the mappings the same way; nothing about them needs to be in a checkpoint.

Why not a Flink source on a second input: mappings are not event-time data, and every
timestamp a second input could give them breaks the events' watermark. An old one holds it
back while the input is active; a far-future one (or a finished bounded input) becomes the
operator's watermark whenever the log sources go idle, and every later event is then late.

A consumer is never left to the garbage collector. Flink does not call a Python function's
``close`` when it cancels the job (a Kafka job ends that way), and a librdkafka consumer freed
in the task manager's embedded Python afterwards waited forever in ``rd_kafka_destroy``
(py-spy: ``Consumer_dealloc`` -> ``thrd_join``), holding up the task's cleanup and every later
job's Python operators in their ``open``; closing such an orphan from a later job's ``open``
hung the same way. So every reader is also kept in a module-level list: a reader whose job
was cancelled stays there, never freed and never destroyed, and its consumer's fetch queue is
bounded (:data:`FETCH_QUEUE_KBYTES`). A reader closed the normal way (a job that finishes)
leaves the list. The cost: one idle consumer per cancelled subtask for the life of a task
manager that runs many jobs (a session cluster); a job in its own cluster (the Operator's
application mode) takes it down with the process.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from seamwatch.errors import SeamwatchError
from seamwatch.kafka.codec import DecodeError, decode_mapping
from seamwatch.udfs.identity import IdentityGraph, entity_from_mapping

#: An update for the identity graph: ``(entity_id, entity JSON)``, empty JSON deletes.
Update = tuple[str, str]


class IdentityTopicError(SeamwatchError, RuntimeError):
    """The identity-mapping topic is missing, unreadable or not read to its end in time."""


@dataclass(frozen=True)
class IdentityTopic:
    """Where the mappings are: librdkafka client configuration and the topic name."""

    conf: dict[str, Any] = field(repr=False)
    topic: str
    catch_up_timeout_seconds: float = 60.0
    poll_interval_seconds: float = 0.5


@dataclass(frozen=True)
class BadMapping:
    """A record of the topic that is not a mapping: it becomes a dead letter."""

    reason: str
    raw: bytes
    raw_ref: str

    def dead_letter_json(self) -> str:
        return orjson.dumps(
            {
                "source": "identity-mapping",
                "reason": self.reason,
                "raw_ref": self.raw_ref,
                "raw": self.raw.decode("utf-8", errors="replace"),
            }
        ).decode()


#: The most a reader's consumer prefetches (librdkafka's default is 64 MB per partition); it
#: bounds the memory of a reader kept after its job was cancelled (module docstring).
FETCH_QUEUE_KBYTES = 1024


class IdentityTopicReader:
    """A consumer of the whole topic (no consumer group offsets: it always starts at 0)."""

    def __init__(self, spec: IdentityTopic) -> None:
        # Deferred: confluent_kafka (librdkafka) loads only when Kafka is actually used.
        from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

        self._spec = spec
        self._consumer = Consumer(
            {
                **spec.conf,
                "group.id": f"seamwatch-identities-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "queued.max.messages.kbytes": FETCH_QUEUE_KBYTES,
            }
        )
        metadata = self._consumer.list_topics(spec.topic, timeout=spec.catch_up_timeout_seconds)
        topic = metadata.topics.get(spec.topic)
        if topic is None or topic.error is not None or not topic.partitions:
            self._consumer.close()
            reason = topic.error if topic is not None and topic.error else "no partitions"
            raise IdentityTopicError(
                f"identity-mapping topic {spec.topic!r}: {reason} "
                "(create it with `seamwatch topics create`)"
            )
        self._partitions = [
            TopicPartition(spec.topic, p, OFFSET_BEGINNING) for p in sorted(topic.partitions)
        ]
        self._consumer.assign(self._partitions)
        self._next_poll = 0.0

    def catch_up(self) -> list[Update | BadMapping]:
        """Every record up to the end offsets the topic has now (raises on the timeout)."""
        # Deferred: confluent_kafka (librdkafka) loads only when Kafka is actually used.
        from confluent_kafka import TopicPartition

        timeout = self._spec.catch_up_timeout_seconds
        deadline = time.monotonic() + timeout
        remaining: dict[int, int] = {}
        for tp in self._partitions:
            low, high = self._end_offsets(TopicPartition(tp.topic, tp.partition), deadline)
            if high > low:
                remaining[tp.partition] = high
        results: list[Update | BadMapping] = []
        while remaining:
            if time.monotonic() > deadline:
                raise IdentityTopicError(
                    f"identity-mapping topic {self._spec.topic!r}: not read to its end within "
                    f"{timeout:.0f} s"
                )
            message = self._consumer.poll(0.5)
            if message is not None and not message.error():
                results.append(_decode(message))
            # By position, not by the last record's offset: compaction may have removed the
            # record at high - 1 (an expired tombstone, say).
            positions = self._consumer.position(
                [TopicPartition(self._spec.topic, p) for p in remaining]
            )
            for tp in positions:
                if tp.offset >= 0 and tp.offset >= remaining[tp.partition]:
                    remaining.pop(tp.partition, None)
        self._next_poll = time.monotonic() + self._spec.poll_interval_seconds
        return results

    def _end_offsets(self, partition: Any, deadline: float) -> tuple[int, int]:
        """Low and high offsets, retried until the deadline (e.g. a leader still being elected)."""
        # Deferred: confluent_kafka (librdkafka) loads only when Kafka is actually used.
        from confluent_kafka import KafkaException

        while True:
            try:
                low, high = self._consumer.get_watermark_offsets(partition, timeout=5)
                return int(low), int(high)
            except KafkaException as exc:
                if time.monotonic() > deadline:
                    raise IdentityTopicError(
                        f"identity-mapping topic {self._spec.topic!r}: {exc.args[0].str()}"
                    ) from exc
                time.sleep(0.5)

    def poll(self) -> Iterator[Update | BadMapping]:
        """Records that arrived since the last call; nothing if called again too soon."""
        now = time.monotonic()
        if now < self._next_poll:
            return
        self._next_poll = now + self._spec.poll_interval_seconds
        while (message := self._consumer.poll(0)) is not None:
            if not message.error():
                yield _decode(message)

    def close(self) -> None:
        self._consumer.close()


# Every reader not closed the normal way, kept from the garbage collector (module docstring).
_OPEN_READERS: list[IdentityTopicReader] = []


def _decode(message: Any) -> Update | BadMapping:
    try:
        update = decode_mapping(message.key(), message.value())
        if update[1]:
            entity_from_mapping(orjson.loads(update[1]))  # validates kinds, type, id
        return update
    except (DecodeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        return BadMapping(
            reason=str(exc),
            raw=message.value() or b"",
            raw_ref=f"{message.topic()}/{message.partition()}@{message.offset()}",
        )


class LiveIdentityGraph:
    """The static graph plus the topic's mappings, for a function that runs in Flink.

    Build it in the function's constructor (it pickles: nothing is connected yet), call
    :meth:`open` in the function's ``open`` and :meth:`refresh` before each use.
    """

    def __init__(self, static: IdentityGraph, topic: IdentityTopic | None) -> None:
        self._static = static
        self._topic = topic
        self.graph = IdentityGraph()
        self._reader: IdentityTopicReader | None = None

    def open(self) -> list[BadMapping]:
        """A fresh copy of the static graph, with the whole topic applied; the bad records."""
        self.graph = IdentityGraph(dict(self._static.entities), dict(self._static.index))
        if self._topic is None:
            return []
        self._reader = IdentityTopicReader(self._topic)
        _OPEN_READERS.append(self._reader)
        return self._apply(self._reader.catch_up())

    def refresh(self) -> list[BadMapping]:
        """Apply what arrived since the last call (polls at most every poll interval)."""
        return [] if self._reader is None else self._apply(self._reader.poll())

    def _apply(self, items: Iterable[Update | BadMapping]) -> list[BadMapping]:
        bad: list[BadMapping] = []
        for item in items:
            if isinstance(item, BadMapping):
                bad.append(item)
            elif item[1]:
                self.graph.upsert(entity_from_mapping(orjson.loads(item[1])))
            else:
                self.graph.remove(item[0])
        return bad

    def close(self) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            _OPEN_READERS[:] = [item for item in _OPEN_READERS if item is not reader]
            reader.close()

"""``seamwatch respond --kafka``: the rules' actions for the alerts of the alert topic.

Apart from the Flink job, so the job never waits on a receiver. Reads with
``isolation.level=read_committed`` (only alerts of committed checkpoints) in its own consumer
group, runs each batch's actions (bounded, :func:`seamwatch.respond.runner.respond`), appends
the results to the response log, and only then commits the batch's offsets: at least once.
An alert id already acted on in this process (a suppressed rule's open alert, re-emitted with a
higher match count) is not acted on again.
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from seamwatch.kafka.codec import AlertFormat, decode_alert
from seamwatch.respond.actions import Action
from seamwatch.respond.runner import ActionResult, ResponseConfig, respond


@dataclass(frozen=True)
class ConsumerOptions:
    group: str = "seamwatch-respond"
    from_beginning: bool = False  # a new group starts at the newest alerts unless asked
    batch: int = 100
    poll_seconds: float = 1.0
    timeout: float | None = None  # stop after this many seconds (None: until interrupted)
    idle_stop: float | None = None  # stop after this many seconds without an alert
    remember: int = 100_000  # alert ids kept to act once per alert


def _undecodable(message: Any, exc: Exception, config: ResponseConfig) -> ActionResult:
    where = f"{message.topic()}/{message.partition()}@{message.offset()}"
    return ActionResult(
        alert_id="",
        rule_id="",
        action="decode",
        index=-1,
        mode=config.mode,
        status="failed",
        reason=f"undecodable alert at {where}: {exc}",
        at=int(time.time() * 1000),
    )


def respond_from_topic(
    conf: Mapping[str, Any],
    topic: str,
    fmt: AlertFormat,
    actions_by_rule: Mapping[str, Sequence[Action]],
    config: ResponseConfig,
    log_path: Path,
    options: ConsumerOptions | None = None,
    on_result: Callable[[ActionResult], None] | None = None,
) -> Counter[str]:
    """Consume, act, log, commit, until ``timeout`` / ``idle_stop``; counts per status."""
    # Deferred: confluent_kafka (librdkafka) loads only when Kafka is actually used.
    from confluent_kafka import Consumer

    opts = options or ConsumerOptions()
    consumer = Consumer(
        {
            **conf,
            "group.id": opts.group,
            "auto.offset.reset": "earliest" if opts.from_beginning else "latest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([topic])
    seen: OrderedDict[str, None] = OrderedDict()
    counts: Counter[str] = Counter()
    started = last_seen = time.monotonic()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with log_path.open("ab") as log:
            while opts.timeout is None or time.monotonic() - started < opts.timeout:
                messages = consumer.consume(num_messages=opts.batch, timeout=opts.poll_seconds)
                messages = [m for m in messages if m.error() is None]
                if not messages:
                    if opts.idle_stop is not None and time.monotonic() - last_seen > opts.idle_stop:
                        break
                    continue
                last_seen = time.monotonic()
                results: list[ActionResult] = []
                alerts: list[dict[str, Any]] = []
                for message in messages:
                    try:
                        alert = decode_alert(message.value() or b"", fmt)
                    except Exception as exc:  # a bad record is logged, never a crash
                        results.append(_undecodable(message, exc, config))
                        continue
                    alert_id = str(alert.get("alert_id", ""))
                    if alert_id in seen:
                        continue
                    seen[alert_id] = None
                    if len(seen) > opts.remember:
                        seen.popitem(last=False)
                    alerts.append(alert)
                results += respond(alerts, actions_by_rule, config)
                for result in results:
                    log.write(orjson.dumps(result.to_record()) + b"\n")
                    counts[result.status] += 1
                    if on_result is not None:
                        on_result(result)
                log.flush()
                consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return counts

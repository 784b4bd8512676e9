"""End-to-end latency over Kafka: attack's last event produced -> alert readable on the topic.

Starts a real broker (tests/kafka_broker.py, jars from ``make jars``) and the job on a local
mini-cluster, produces steady background traffic (both sources, event time = now) and injects
the field attack 20 times, each for its own victim with a sign-in from home first. A
read_committed consumer notes when each alert becomes readable. Prints p50/p99 of the latency
next to the configured watermark delay (target: p99 <= watermark + 3 s), and what bounds it:
how busy the machine's cores were while attacks were injected (the broker, the producer and
the job share them), and how often a checkpoint completed (alerts are readable only then) with
the size of the last one.

    .venv/bin/python bench/kafka_latency.py [--rate 50] [--attacks 20] [--watermark 5]
        [--not-needed 0.0] [--python-mode thread|process]

``--not-needed``: the share of the background's CloudTrail records (half the background) that
are calls no rule needs (``DescribeInstances``), as most of a real estate's CloudTrail is; the
rest, and all the Okta records, are sign-ins and calls a rule or the baseline reads.
``--python-mode``: where the job's Python functions run (default: the Kafka job's own).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seamwatch.jobs.kafka_job import KafkaSettings, start_kafka_job
from seamwatch.jobs.settings import PYTHON_MODES
from seamwatch.kafka.client import librdkafka_config
from seamwatch.kafka.codec import decode_alert
from seamwatch.kafka.config import KafkaTopics
from seamwatch.kafka.tools import consume, create_topics
from seamwatch.sample.factories import (
    ct_assume_role_with_saml,
    ct_call,
    ct_create_access_key,
    okta_session_start,
)
from tests.flink_cluster import latest_checkpoint
from tests.kafka_broker import KafkaBroker
from tests.scenarios import ABROAD, ACCOUNT, HOME, ROLE, person


def _now() -> datetime:
    return datetime.now(UTC)


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot, from ``/proc/stat``."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def _checkpoints(directory: Path) -> tuple[int, int]:
    """The latest completed checkpoint's number and size in bytes (0, 0: none yet)."""
    latest = latest_checkpoint(directory)
    if latest is None:
        return 0, 0
    number, folder = latest
    try:
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    except FileNotFoundError:  # removed meanwhile: a newer one has completed
        return _checkpoints(directory)
    return number, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=50.0, help="background records/s")
    parser.add_argument("--attacks", type=int, default=20)
    parser.add_argument("--watermark", type=int, default=5, help="watermark delay, seconds")
    parser.add_argument("--gap", type=float, default=4.0, help="seconds between attacks")
    parser.add_argument("--people", type=int, default=1000, help="people in the background")
    parser.add_argument(
        "--not-needed",
        type=float,
        default=0.0,
        help="share of the background's CloudTrail records that no rule needs (DescribeInstances)",
    )
    parser.add_argument(
        "--checkpoint-ms", type=int, default=500, help="checkpoint interval (alerts commit then)"
    )
    parser.add_argument(
        "--python-mode",
        choices=PYTHON_MODES,
        default=KafkaSettings.python_mode,
        help="where the job's Python functions run (the Kafka job's default unless given)",
    )
    args = parser.parse_args()

    from confluent_kafka import Producer

    checkpoints = Path(tempfile.mkdtemp(prefix="seamwatch-bench-checkpoints-"))
    with KafkaBroker() as broker:
        topics = KafkaTopics()
        conf = librdkafka_config(broker.bootstrap, {})
        create_topics(conf, topics)
        settings = KafkaSettings(
            bootstrap=broker.bootstrap,
            topics=topics,
            watermark_seconds={"okta": args.watermark, "cloudtrail": args.watermark},
            checkpoint_interval_ms=args.checkpoint_ms,
            checkpoint_dir=checkpoints,
            python_mode=args.python_mode,
        )
        client = start_kafka_job(settings)
        # Held in a list so that it can be dropped, which closes it, before the broker stops.
        producers = [Producer({**conf, "linger.ms": 0})]
        lock = threading.Lock()
        stop = threading.Event()
        rng = random.Random(1)

        def send(topic: str, doc: dict[str, Any]) -> None:
            with lock:
                producers[0].produce(topic, orjson.dumps(doc))
                producers[0].poll(0)

        sent = [0, 0.0]  # background records, seconds spent sending them

        def background() -> None:
            # Spread over many people, as real traffic is: one person signing in 25 times a
            # second would hold thousands of partial matches in every rule's window.
            crowd = [person(f"back.ground{n:04d}") for n in range(args.people)]
            started = time.monotonic()
            i = 0
            while not stop.is_set():
                # Paced by the clock, not by sleeping a period per record: at thousands of
                # records a second, sleep granularity and the records' own cost would set the
                # rate instead.
                due = int((time.monotonic() - started) * args.rate)
                if i >= due:
                    time.sleep(0.001)
                    continue
                at = _now()
                who = crowd[i % len(crowd)]
                if i % 2:
                    send(topics.okta, okta_session_start(who, at, HOME.ips[0], HOME, rng=rng))
                else:
                    # Most of a real estate's CloudTrail is reads no rule needs; the job drops
                    # them in the JVM before the Python step (seamwatch.jobs.jvm_drop).
                    call = (
                        ("ec2.amazonaws.com", "DescribeInstances")
                        if rng.random() < args.not_needed
                        else ("sts.amazonaws.com", "GetCallerIdentity")
                    )
                    send(
                        topics.cloudtrail,
                        ct_call(
                            who,
                            at,
                            HOME.ips[0],
                            *call,
                            ACCOUNT,
                            ROLE,
                            f"ASIABG{i % len(crowd):014d}",
                            rng=rng,
                        ),
                    )
                i += 1
                sent[0], sent[1] = i, time.monotonic() - started

        readable: dict[str, float] = {}

        def tail() -> None:
            for message in consume(conf, topics.alerts, timeout=None, idle_stop=None):
                alert = decode_alert(message.value(), "avro")
                readable.setdefault(alert["events"][-1]["event_id"], time.time())
                if stop.is_set() and len(readable) >= args.attacks:
                    return

        victims = [person(f"victim.n{i:02d}") for i in range(args.attacks)]
        # Each victim's baseline country, home, two days back: the baseline flags nothing for
        # an entity with less than the learning period of history. Sent before the background
        # traffic moves the watermark to "now".
        for who in victims:
            at = _now() - timedelta(days=2)
            send(topics.okta, okta_session_start(who, at, HOME.ips[0], HOME, rng=rng))
        threads = [
            threading.Thread(target=background, daemon=True),
            threading.Thread(target=tail, daemon=True),
        ]
        for thread in threads:
            thread.start()
        time.sleep(20)  # job start-up (mini-cluster, Python workers) before the first attack
        produced: dict[str, float] = {}
        ip = ABROAD.ips[0]
        cpu_before, checkpoint_before, attacks_started = (
            _cpu_ticks(),
            _checkpoints(checkpoints),
            time.monotonic(),
        )
        for who in victims:
            send(topics.okta, okta_session_start(who, _now(), ip, ABROAD, rng=rng))
            time.sleep(0.5)
            issued = ct_assume_role_with_saml(who, _now(), ip, ACCOUNT, ROLE, rng=rng)
            send(topics.cloudtrail, issued.record)
            time.sleep(0.5)
            created = ct_create_access_key(
                who, _now(), ip, ACCOUNT, ROLE, issued.access_key_id, "svc-backup", rng=rng
            )
            send(topics.cloudtrail, created)
            with lock:
                producers[0].flush(10)
            produced[created["eventID"]] = time.time()
            time.sleep(args.gap)
        deadline = time.monotonic() + args.watermark + 60
        while time.monotonic() < deadline and len(set(produced) & set(readable)) < len(produced):
            time.sleep(0.5)
        cpu_after, checkpoint_after = _cpu_ticks(), _checkpoints(checkpoints)
        span = time.monotonic() - attacks_started
        stop.set()
        client.cancel().result()
        # The background sender stops at once; what it still queued is dropped, and the
        # producer is closed while the broker still runs (else librdkafka logs its reconnects).
        threads[0].join(10)
        producers[0].purge()
        producers[0].flush(5)
        producers.clear()

    busy = (cpu_after[0] - cpu_before[0]) / max(1, cpu_after[1] - cpu_before[1])
    completed = checkpoint_after[0] - checkpoint_before[0]
    every = f"one every {span / completed:.1f} s" if completed else "none"
    print(
        f"while attacks were injected ({span:.0f} s): the {os.cpu_count()} cores {busy:.0%} busy; "
        f"checkpoints completed: {completed} ({every}), the last "
        f"{checkpoint_after[1] / 1e6:,.0f} MB"
    )
    shutil.rmtree(checkpoints, ignore_errors=True)
    latencies = sorted(readable[k] - produced[k] for k in produced if k in readable)
    missing = len(produced) - len(latencies)
    achieved = sent[0] / sent[1] if sent[1] else 0.0
    print(
        f"background {args.rate:.0f} records/s asked, {achieved:,.0f} records/s sent "
        f"({sent[0]:,} records, {args.not_needed:.0%} of the CloudTrail half no rule needs); "
        f"{len(produced)} attacks, {missing} missed; "
        f"checkpoint interval {settings.checkpoint_interval_ms} ms; "
        f"Python functions in {settings.python_mode} mode"
    )
    if not latencies:
        print(f"no alert became readable ({missing} attacks injected)")
        sys.exit(1)
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]

    print(
        f"last attack event produced -> alert readable (read_committed): "
        f"p50 {p50:.2f} s, p99 {p99:.2f} s, max {latencies[-1]:.2f} s; "
        f"watermark delay {args.watermark} s; target p99 <= {args.watermark + 3} s: "
        f"{'met' if p99 <= args.watermark + 3 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()

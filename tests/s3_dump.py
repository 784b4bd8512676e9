"""An ``s3-dump/`` directory as a CloudTrail bucket copied to disk holds it: log files, the
same log file delivered twice, digest files, S3 event notifications and an Insights file.

The non-event shapes follow the AWS documentation ("CloudTrail digest file structure", Amazon
S3 "Event message structure", CloudTrail Insights events); values are made up.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson

ACCOUNT = "111122223333"


def digest_file(start: str, end: str) -> dict[str, Any]:
    return {
        "awsAccountId": ACCOUNT,
        "digestStartTime": start,
        "digestEndTime": end,
        "digestS3Bucket": "trail-bucket",
        "digestS3Object": f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/x.json.gz",
        "digestPublicKeyFingerprint": "0f" * 16,
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": end,
        "oldestEventTime": start,
        "previousDigestS3Bucket": "trail-bucket",
        "previousDigestS3Object": None,
        "previousDigestHashValue": None,
        "previousDigestHashAlgorithm": None,
        "previousDigestSignature": None,
        "logFiles": [
            {
                "s3Bucket": "trail-bucket",
                "s3Object": f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/y.json.gz",
                "hashValue": "ab" * 32,
                "hashAlgorithm": "SHA-256",
                "newestEventTime": end,
                "oldestEventTime": start,
            }
        ],
    }


def s3_notification(key: str, at: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": at,
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
                "requestParameters": {"sourceIPAddress": "203.0.113.9"},
                "responseElements": {"x-amz-request-id": "R1", "x-amz-id-2": "H1"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "trail-files",
                    "bucket": {"name": "trail-bucket", "arn": "arn:aws:s3:::trail-bucket"},
                    "object": {"key": key, "size": 1024, "eTag": "e1", "sequencer": "0A"},
                },
            }
        ]
    }


S3_TEST_EVENT: dict[str, Any] = {
    "Service": "Amazon S3",
    "Event": "s3:TestEvent",
    "Time": "2026-03-03T13:00:00.000Z",
    "Bucket": "trail-bucket",
    "RequestId": "R0",
    "HostId": "H0",
}


def insight(at: str, event_id: str) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "eventTime": at,
        "awsRegion": "us-east-1",
        "eventID": event_id,
        "eventType": "AwsCloudTrailInsight",
        "recipientAccountId": ACCOUNT,
        "sharedEventID": "shared-1",
        "insightDetails": {
            "state": "Start",
            "eventSource": "iam.amazonaws.com",
            "eventName": "CreateAccessKey",
            "insightType": "ApiCallRateInsight",
            "insightContext": {"statistics": {"baseline": {"average": 0.01}}},
        },
        "eventCategory": "Insight",
    }


def write_s3_dump(root: Path, records: list[dict[str, Any]]) -> dict[str, int]:
    """CloudTrail ``records`` as an S3 dump under ``root``; returns what it holds besides them.

    The log file is delivered twice (a second object with the same records), and digest
    files, S3 notifications (one per log file), the S3 test event and one Insights file sit
    beside it, in the bucket's own layout.
    """
    logs = root / "AWSLogs" / ACCOUNT / "CloudTrail" / "us-east-1" / "2026" / "03" / "04"
    digests = root / "AWSLogs" / ACCOUNT / "CloudTrail-Digest" / "us-east-1" / "2026" / "03" / "04"
    insights = (
        root / "AWSLogs" / ACCOUNT / "CloudTrail-Insight" / "us-east-1" / "2026" / "03" / "04"
    )
    notes = root / "notifications"
    for directory in (logs, digests, insights, notes):
        directory.mkdir(parents=True, exist_ok=True)
    body = gzip.compress(orjson.dumps({"Records": records}), mtime=0)
    names = [
        f"{ACCOUNT}_CloudTrail_us-east-1_20260304T1400Z_a1.json.gz",
        f"{ACCOUNT}_CloudTrail_us-east-1_20260304T1405Z_b2.json.gz",  # delivered again
    ]
    for name in names:
        (logs / name).write_bytes(body)
    for hour in ("14", "15"):
        digest = digest_file(f"2026-03-04T{hour}:00:00Z", f"2026-03-04T{hour}:59:59Z")
        name = f"{ACCOUNT}_CloudTrail-Digest_us-east-1_trail_us-east-1_20260304T{hour}5959Z.json.gz"
        (digests / name).write_bytes(gzip.compress(orjson.dumps(digest), mtime=0))
    for i, name in enumerate(names):
        (notes / f"note-{i}.json").write_bytes(
            orjson.dumps(s3_notification(name, "2026-03-04T14:10:00Z"))
        )
    (notes / "test-event.json").write_bytes(orjson.dumps(S3_TEST_EVENT))
    (insights / "insight.json.gz").write_bytes(
        gzip.compress(
            orjson.dumps({"Records": [insight("2026-03-04T14:30:00Z", "ins-1")]}), mtime=0
        )
    )
    return {
        "duplicates": len(records),
        "cloudtrail_digest": 2,
        "s3_event_notification": 2,
        "s3_test_event": 1,
        "insights": 1,
    }

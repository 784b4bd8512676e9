"""Alerts as OCSF Detection Findings, validated against the OCSF schema a maintained package
ships (pydantic-ocsf's models of OCSF 1.7.0), not a copy written here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from seamwatch.cli.app import app
from seamwatch.cli.deploy import SubmitOptions, job_arguments
from seamwatch.jobs.cluster import argument_parser
from seamwatch.kafka.codec import decode_alert, encode_alert
from seamwatch.udfs.alerts import RuleMeta, build_alert
from seamwatch.udfs.identity import Entity, IdentityGraph
from seamwatch.udfs.ocsf import OCSF_VERSION, detection_finding
from seamwatch.udfs.records import Identifier

ocsf_events = pytest.importorskip("ocsf.v1_7_0.events", reason="pydantic-ocsf is a dev dependency")

# Free-form OCSF attributes (type ``object``): anything may be inside them.
FREE_FORM = {"unmapped", "data"}


def schema_errors(finding: dict[str, Any]) -> list[str]:
    """Every way ``finding`` breaks OCSF 1.7.0's Detection Finding: what the model refuses
    (missing required attributes, wrong types, unknown enum values) and every attribute the
    schema does not define (the models keep those aside instead of refusing them)."""
    model = ocsf_events.DetectionFinding
    try:
        validated = model.model_validate(finding)
    except Exception as exc:  # pydantic.ValidationError, listed in full
        return [str(exc)]
    errors: list[str] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, BaseModel):
            for key in node.model_extra or {}:
                errors.append(f"{path}.{key}: not an attribute of {type(node).__name__}")
            for name in type(node).model_fields:
                if name not in FREE_FORM:
                    walk(getattr(node, name), f"{path}.{name}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")

    walk(validated, "finding")
    return errors


def _alert() -> dict[str, Any]:
    base = {
        "entity_id": "dana.whitfield",
        "entity_type": "human",
        "resolved_by": "static",
        "confidence": 1.0,
    }
    events = [
        {
            **base,
            "step": "okta_login",
            "event_id": "okta-1",
            "source": "okta",
            "event_time": 1_000_000,
            "action": "user.session.start",
            "outcome": "success",
            "principal": "dana@example.com",
            "src_ip": "86.105.9.46",
            "country": "Romania",
            "city": "Bucharest",
            "asn": 9050,
            "as_org": "Orange Romania",
            "new_country": True,
            "raw_ref": "okta/system-log.jsonl:17",
        },
        {
            **base,
            "step": "assume_role",
            "event_id": "ct-1",
            "source": "cloudtrail",
            "event_time": 1_060_000,
            "action": "AssumeRoleWithSAML",
            "outcome": "success",
            "src_ip": "86.105.9.46",
            "role_arn": "arn:aws:iam::111122223333:role/PlatformAdmin",
            "raw_ref": "cloudtrail/a.json.gz:1#Records[0]",
        },
        {
            **base,
            "step": "create_key",
            "event_id": "ct-2",
            "source": "cloudtrail",
            "event_time": 1_540_000,
            "action": "CreateAccessKey",
            "outcome": "success",
            "src_ip": "86.105.9.46",
            "target_user": "svc-backup",
            "raw_ref": "cloudtrail/a.json.gz:1#Records[1]",
        },
    ]
    meta = RuleMeta(
        "okta-new-country-saml-access-key",
        "Okta session from a new country, AWS role assumed, access key created",
        "A stolen session turned into persistent AWS access.",
        ("T1078.004", "T1550", "T1098.001"),
        "high",
        900,
        "entity_id",
    )
    graph = IdentityGraph.from_entities(
        [
            Entity(
                id="dana.whitfield",
                type="human",
                name="Dana Whitfield",
                identifiers=(Identifier("email", "dana@example.com"),),
            )
        ]
    )
    alert = build_alert(meta, "dana.whitfield", json.dumps(events), graph, 1_600_000)
    alert["events"][0].setdefault("asn", 9050)  # alerts carry the AS number (issue 15)
    return alert


def test_an_alert_is_a_valid_detection_finding_of_the_shipped_schema() -> None:
    finding = detection_finding(_alert(), product_version="0.1.0")
    assert schema_errors(finding) == []
    assert finding["metadata"]["version"] == OCSF_VERSION
    assert (finding["class_uid"], finding["category_uid"], finding["type_uid"]) == (2004, 2, 200401)


def test_the_validator_catches_what_the_schema_refuses() -> None:
    finding = detection_finding(_alert())
    wrong = {**finding, "finding_info": {**finding["finding_info"], "rule_name": "x"}}
    assert any("rule_name" in e for e in schema_errors(wrong))
    missing = {k: v for k, v in finding.items() if k != "metadata"}
    assert any("metadata" in e for e in schema_errors(missing))
    unknown_enum = {**finding, "severity_id": 42}
    assert schema_errors(unknown_enum)


def test_the_finding_names_rule_severity_times_and_attack_techniques() -> None:
    alert = _alert()
    finding = detection_finding(alert)
    info = finding["finding_info"]
    assert info["uid"] == finding["metadata"]["uid"] == alert["alert_id"]
    assert info["analytic"] == {
        "uid": "okta-new-country-saml-access-key",
        "name": alert["title"],
        "type_id": 1,
        "type": "Rule",
    }
    assert (finding["severity_id"], finding["severity"]) == (4, "High")
    assert (finding["time"], finding["start_time"], finding["end_time"]) == (
        1_600_000,
        1_000_000,
        1_540_000,
    )
    by_uid = {(a.get("sub_technique") or a["technique"])["uid"]: a for a in info["attacks"]}
    assert list(by_uid) == ["T1078.004", "T1550", "T1098.001"]
    cloud_accounts = by_uid["T1078.004"]
    assert cloud_accounts["technique"] == {"uid": "T1078", "name": "Valid Accounts"}
    assert {"uid": "TA0001", "name": "Initial Access"} in cloud_accounts["tactics"]
    assert [e["uid"] for e in info["related_events"]] == ["okta-1", "ct-1", "ct-2"]
    assert info["data_sources"] == ["cloudtrail", "okta"]


def test_each_matched_event_is_evidence_with_the_entity_as_actor() -> None:
    finding = detection_finding(_alert())
    evidences = finding["evidences"]
    assert [e["uid"] for e in evidences] == ["okta-1", "ct-1", "ct-2"]
    login, assume, _ = evidences
    user = login["actor"]["user"]
    assert (user["uid"], user["name"], user["email_addr"], user["type_id"]) == (
        "dana.whitfield",
        "Dana Whitfield",
        "dana@example.com",
        1,
    )
    assert login["src_endpoint"]["ip"] == "86.105.9.46"
    assert login["src_endpoint"]["autonomous_system"] == {"number": 9050, "name": "Orange Romania"}
    assert login["data"]["new_country"] is True
    assert login["data"]["raw_ref"] == "okta/system-log.jsonl:17"
    assert "api" not in login
    assert assume["api"]["operation"] == "AssumeRoleWithSAML"
    assert finding["unmapped"]["seamwatch"]["entity"]["id"] == "dana.whitfield"


def test_log_text_stays_exact_in_the_finding() -> None:
    alert = _alert()
    alert["events"][0]["principal"] = "\x1b[2J\u202eALL CLEAR\r\n"
    finding = detection_finding(alert)
    assert finding["evidences"][0]["data"]["principal"] == "\x1b[2J\u202eALL CLEAR\r\n"
    assert schema_errors(finding) == []


def test_the_alert_topic_carries_the_finding_when_the_format_is_ocsf() -> None:
    alert = _alert()
    value = encode_alert(orjson.dumps(alert).decode(), "ocsf")
    finding = decode_alert(value, "ocsf")
    assert finding["finding_info"]["uid"] == alert["alert_id"]
    assert finding["metadata"]["product"]["name"] == "Seamwatch"
    assert schema_errors(finding) == []


def test_submit_and_the_cluster_entry_point_take_the_alert_format() -> None:
    files = SubmitOptions(mode="files", inputs=["okta=/in"], output=Path("/out"))
    files.alert_format = "ocsf"
    args = argument_parser().parse_args(job_arguments(files))
    assert args.alert_format == "ocsf"
    kafka = SubmitOptions(mode="kafka", bootstrap="localhost:9092", alert_format="ocsf")
    assert argument_parser().parse_args(job_arguments(kafka)).alert_format == "ocsf"
    assert (
        argument_parser()
        .parse_args(["replay", "--staged", "okta=/s", "--output", "/o"])
        .alert_format
        == "json"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--alert-format", "avro"], "the alert file is json or ocsf"),
        (
            [
                "submit",
                "--dry-run",
                "--input",
                "okta=/in",
                "--output",
                "/o",
                "--alert-format",
                "avro",
            ],
            "use json or ocsf",
        ),
    ],
)
def test_a_format_the_output_cannot_carry_is_refused(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.flink
def test_run_writes_every_alert_as_a_valid_finding(tmp_path: Path) -> None:
    """``seamwatch run --alert-format ocsf`` on the bundled examples."""
    output = tmp_path / "findings.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "seamwatch.cli",
            "run",
            "--quiet",
            "--alert-format",
            "ocsf",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    findings = [orjson.loads(line) for line in output.read_bytes().splitlines()]
    assert findings, "the examples hold an attack"
    for finding in findings:
        assert schema_errors(finding) == []
        assert finding["class_uid"] == 2004
    # The demo's two attacks, two alerts each: Dana (Okta and AWS), Felix (all four sources).
    people = sorted(f["evidences"][0]["actor"]["user"]["uid"] for f in findings)
    assert people == ["dana.whitfield"] * 2 + ["felix.wagner"] * 2


def test_windows_and_entra_detail_reach_the_evidence() -> None:
    alert = _alert()
    logon, sign_in = alert["events"][0], alert["events"][1]
    logon.update(source="windows", action="logon", host="dc01.corp.local", logon_type="10")
    sign_in.update(source="entra", action="sign_in", risk_level="high")
    finding = detection_finding(alert)
    assert schema_errors(finding) == []
    windows, entra, _ = finding["evidences"]
    device = windows["device"]
    assert (device["hostname"], device["type_id"]) == ("dc01.corp.local", 0)
    assert windows["data"]["logon_type"] == "10"
    assert entra["data"]["risk_level"] == "high" and "device" not in entra

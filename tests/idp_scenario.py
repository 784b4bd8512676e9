"""One person across all four sources, as files shaped like the corpus' records (generated here).

J. Smith is ``jsmith@corp.com`` at Okta and in Entra ID (with an Entra object id), ``CORP\\jsmith``
with a SID in logon events and ``jsmith@CORP.LOCAL`` in Kerberos events, and a SAML session named
by the UPN in AWS (Entra as the SAML provider). The identity file lists his UPN, object id, SID,
``DOMAIN\\sam`` and sAMAccountName; no AWS identifier: AWS meets him through the UPN.

The attack, from ``T0``:

- Windows (Winlogbeat ECS): three Kerberos service tickets with RC4 for three service accounts;
- Entra ID (Event Hub batch ``{"records": [...]}``): a sign-in Entra rates high risk, from his
  usual country (no new-country alert), next to a ``RiskyUsers`` record (not read);
- CloudTrail (an S3 log file ``{"Records": [...]}``): ``AssumeRoleWithSAML`` from the sign-in's
  address with the UPN as session name, then ``CreateAccessKey`` by that session.

Before it, his usual days: an Okta session and an Entra sign-in (a Graph list response
``{"value": [...]}``) from the United States (Entra writes ``US``), an NXLog logon whose
``EventTime`` is the collector's local time (UTC+2, corrected by the Logstash ``@timestamp``), and
an NXLog event no rule reads (4658).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import yaml

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
UPN = "jsmith@corp.com"
OBJECT_ID = "6F1C2B9A-0D5E-4C3B-9A77-1E2D3C4B5A69"  # the identity file writes it upper-case
SID = "S-1-5-21-2471396920-3414282134-2470196371-1105"
HOME_IP = "73.14.20.8"
ACCOUNT = "111122223333"
SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/EntraAdmin/{UPN}"


def _iso(at: datetime, fraction: str = ".000") -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def _winlogbeat_4769(at: datetime, record_id: int, service: str, rid: int) -> dict[str, Any]:
    return {
        "@timestamp": _iso(at),
        "event": {
            "code": "4769",
            "kind": "event",
            "provider": "Microsoft-Windows-Security-Auditing",
        },
        "host": {"name": "dc01.corp.local"},
        "winlog": {
            "channel": "Security",
            "computer_name": "DC01.corp.local",
            "event_id": "4769",
            "provider_name": "Microsoft-Windows-Security-Auditing",
            "record_id": record_id,
            "event_data": {
                "TargetUserName": "jsmith@CORP.LOCAL",
                "TargetDomainName": "CORP.LOCAL",
                "ServiceName": service,
                "ServiceSid": f"S-1-5-21-2471396920-3414282134-2470196371-{rid}",
                "TicketOptions": "0x40810000",
                "TicketEncryptionType": "0x17",
                "IpAddress": "::ffff:10.20.30.41",
                "IpPort": "49812",
                "Status": "0x0",
                "LogonGuid": "{8c9d0e1f-0000-4000-8000-000000000001}",
                "TransmittedServices": "-",
            },
        },
    }


def _nxlog(at_local: datetime, event_id: int, record: int, **fields: Any) -> dict[str, Any]:
    """An NXLog im_msvistalog record as Logstash passes it on: local times without a zone
    (the collector is on UTC+2), Logstash's UTC ``@timestamp`` two seconds after reception."""
    received = at_local + timedelta(seconds=2)
    return {
        "EventTime": at_local.strftime("%Y-%m-%d %H:%M:%S"),
        "EventReceivedTime": received.strftime("%Y-%m-%d %H:%M:%S"),
        "@timestamp": _iso(received - timedelta(hours=2)),
        "Hostname": "WKS01.corp.local",
        "Keywords": -9214364837600034816,
        "EventType": "AUDIT_SUCCESS",
        "SeverityValue": 2,
        "Severity": "INFO",
        "EventID": event_id,
        "SourceName": "Microsoft-Windows-Security-Auditing",
        "ProviderGuid": "{54849625-5478-4994-A5BA-3E3B0328C30D}",
        "Version": 2,
        "Task": 12544,
        "OpcodeValue": 0,
        "RecordNumber": record,
        "ProcessID": 652,
        "ThreadID": 4012,
        "Channel": "Security",
        "Category": "Logon",
        "Opcode": "Info",
        "SourceModuleName": "eventlog",
        "SourceModuleType": "im_msvistalog",
        **fields,
    }


def windows_records() -> list[dict[str, Any]]:
    local = T0 + timedelta(hours=2)  # the collector's clock
    return [
        _nxlog(
            local - timedelta(minutes=10),
            4624,
            552301,
            SubjectUserSid="S-1-5-18",
            SubjectUserName="WKS01$",
            SubjectDomainName="CORP",
            TargetUserSid=SID,
            TargetUserName="jsmith",
            TargetDomainName="CORP",
            LogonType="2",
            LogonProcessName="User32 ",
            AuthenticationPackageName="Negotiate",
            WorkstationName="WKS01",
            IpAddress="127.0.0.1",
        ),
        _nxlog(
            local - timedelta(minutes=9),
            4658,
            552302,
            SubjectUserSid=SID,
            SubjectUserName="jsmith",
            SubjectDomainName="CORP",
            ObjectServer="Security",
            HandleId="0x1a4",
        ),
        _winlogbeat_4769(T0, 88101, "svc-sql", 2101),
        _winlogbeat_4769(T0 + timedelta(seconds=5), 88102, "svc-web", 2102),
        _winlogbeat_4769(T0 + timedelta(seconds=10), 88103, "svc-backup", 2103),
    ]


def _graph_sign_in(at: datetime, sign_in_id: str) -> dict[str, Any]:
    return {
        "id": sign_in_id,
        "createdDateTime": _iso(at, ".1234567"),
        "userDisplayName": "J Smith",
        "userPrincipalName": UPN,
        "userId": OBJECT_ID.lower(),
        "appId": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        "appDisplayName": "Azure Portal",
        "ipAddress": HOME_IP,
        "clientAppUsed": "Browser",
        "correlationId": "d79f5bee-5860-4832-928f-3133e22ae912",
        "conditionalAccessStatus": "success",
        "isInteractive": True,
        "riskDetail": "none",
        "riskLevelAggregated": "none",
        "riskLevelDuringSignIn": "none",
        "riskState": "none",
        "riskEventTypes": [],
        "resourceDisplayName": "Windows Azure Service Management API",
        "status": {"errorCode": 0, "failureReason": None, "additionalDetails": None},
        "deviceDetail": {
            "deviceId": "",
            "displayName": None,
            "operatingSystem": "Windows 10",
            "browser": "Edge 120.0.0",
            "isCompliant": None,
            "isManaged": None,
        },
        "location": {
            "city": "Denver",
            "state": "Colorado",
            "countryOrRegion": "US",
            "geoCoordinates": {"altitude": None, "latitude": 39.7392, "longitude": -104.9903},
        },
    }


def _diagnostic_sign_in(at: datetime, sign_in_id: str) -> dict[str, Any]:
    body = _graph_sign_in(at, sign_in_id)
    body.update(
        riskLevelDuringSignIn="high",
        riskLevelAggregated="high",
        riskState="atRisk",
        riskEventTypes_v2=["unfamiliarFeatures"],
        appDisplayName="AWS Single-Account Access",
        authenticationProtocol="none",
        deviceDetail=None,
    )
    return {
        "time": _iso(at + timedelta(seconds=40), ".0000000"),
        "resourceId": "/tenants/7a1e0c55-0000-4000-8000-000000000001/providers/Microsoft.aadiam",
        "operationName": "Sign-in activity",
        "operationVersion": "1.0",
        "category": "SignInLogs",
        "tenantId": "7a1e0c55-0000-4000-8000-000000000001",
        "resultType": "0",
        "resultSignature": "None",
        "durationMs": 0,
        "callerIpAddress": HOME_IP,
        "correlationId": body["correlationId"],
        "identity": "J Smith",
        "Level": 4,
        "location": "US",
        "properties": body,
    }


def entra_lines() -> list[dict[str, Any]]:
    risky_at = T0 + timedelta(minutes=30)
    risky_user = {
        "time": _iso(risky_at + timedelta(minutes=1)),
        "category": "RiskyUsers",
        "tenantId": "7a1e0c55-0000-4000-8000-000000000001",
        "operationName": "User Risk Detection",
        "properties": {"userPrincipalName": UPN, "riskLevel": "high", "riskState": "atRisk"},
    }
    return [
        {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",
            "value": [
                _graph_sign_in(T0 - timedelta(days=2), "b01e0000-0000-4000-8000-000000000001")
            ],
        },
        {
            "records": [
                _diagnostic_sign_in(risky_at, "b01e0000-0000-4000-8000-000000000002"),
                risky_user,
            ]
        },
    ]


def okta_records() -> list[dict[str, Any]]:
    return [
        {
            "uuid": "0d1e0000-0000-4000-8000-000000000001",
            "published": _iso(T0 - timedelta(days=3)),
            "eventType": "user.session.start",
            "actor": {
                "id": "00u1jsmith",
                "type": "User",
                "alternateId": UPN,
                "displayName": "J Smith",
            },
            "client": {
                "ipAddress": HOME_IP,
                "userAgent": {"rawUserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"},
                "geographicalContext": {"country": "United States", "city": "Denver"},
            },
            "outcome": {"result": "SUCCESS"},
            "authenticationContext": {"externalSessionId": "102jsmithsession"},
        }
    ]


def cloudtrail_file() -> dict[str, Any]:
    saml_at = T0 + timedelta(minutes=32)
    key_at = T0 + timedelta(minutes=40)
    return {
        "Records": [
            {
                "eventVersion": "1.08",
                "userIdentity": {
                    "type": "SAMLUser",
                    "principalId": f"X4tM2ph3Jd0cYB4oY6wQnIfnE8c=:{UPN}",
                    "userName": UPN,
                    "identityProvider": f"arn:aws:iam::{ACCOUNT}:saml-provider/AzureAD",
                },
                "eventTime": saml_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "eventSource": "sts.amazonaws.com",
                "eventName": "AssumeRoleWithSAML",
                "awsRegion": "us-east-1",
                "sourceIPAddress": HOME_IP,
                "userAgent": "aws-internal/3",
                "requestParameters": {
                    "roleArn": f"arn:aws:iam::{ACCOUNT}:role/EntraAdmin",
                    "principalArn": f"arn:aws:iam::{ACCOUNT}:saml-provider/AzureAD",
                    "durationSeconds": 3600,
                },
                "responseElements": {
                    "credentials": {
                        "accessKeyId": "ASIAEXAMPLEJSMITH01",
                        "expiration": "Mar 10, 2031, 10:32:00 AM",
                    },
                    "assumedRoleUser": {"assumedRoleId": "AROAEXAMPLE:" + UPN, "arn": SESSION_ARN},
                    "subject": UPN,
                    "subjectType": "persistent",
                    "issuer": "https://sts.windows.net/7a1e0c55-0000-4000-8000-000000000001/",
                    "audience": "https://signin.aws.amazon.com/saml",
                },
                "eventID": "5e1d0000-0000-4000-8000-000000000001",
                "eventType": "AwsApiCall",
                "recipientAccountId": ACCOUNT,
            },
            {
                "eventVersion": "1.08",
                "userIdentity": {
                    "type": "AssumedRole",
                    "principalId": "AROAEXAMPLE:" + UPN,
                    "arn": SESSION_ARN,
                    "accountId": ACCOUNT,
                    "accessKeyId": "ASIAEXAMPLEJSMITH01",
                    "sessionContext": {
                        "sessionIssuer": {
                            "type": "Role",
                            "arn": f"arn:aws:iam::{ACCOUNT}:role/EntraAdmin",
                        },
                    },
                },
                "eventTime": key_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "eventSource": "iam.amazonaws.com",
                "eventName": "CreateAccessKey",
                "awsRegion": "us-east-1",
                "sourceIPAddress": HOME_IP,
                "userAgent": "aws-cli/2.15.0",
                "requestParameters": {"userName": "svc-deploy"},
                "responseElements": {
                    "accessKey": {
                        "accessKeyId": "AKIAEXAMPLENEWKEY99",
                        "userName": "svc-deploy",
                        "status": "Active",
                    }
                },
                "eventID": "5e1d0000-0000-4000-8000-000000000002",
                "eventType": "AwsApiCall",
                "recipientAccountId": ACCOUNT,
            },
        ]
    }


IDENTITIES = {
    "entities": [
        {
            "id": "jsmith",
            "type": "human",
            "name": "J Smith",
            "identifiers": [
                {"kind": "entra_upn", "value": UPN},
                {"kind": "entra_object_id", "value": OBJECT_ID},
                {"kind": "ad_sid", "value": SID},
                {"kind": "ad_account", "value": "CORP\\JSmith"},
                {"kind": "ad_sam", "value": "jsmith"},
            ],
        }
    ]
}


@dataclass(frozen=True)
class Files:
    inputs: dict[str, list[str]]
    identities: Path


def write_files(directory: Path) -> Files:
    """The four input files and the identity file, under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)

    def lines(name: str, records: list[dict[str, Any]]) -> str:
        path = directory / name
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
        return str(path)

    ct = directory / "111122223333_CloudTrail_us-east-1_20310310T0945Z_abc.json"
    ct.write_bytes(orjson.dumps(cloudtrail_file(), option=orjson.OPT_INDENT_2))
    identities = directory / "identities.yaml"
    identities.write_text(yaml.safe_dump(IDENTITIES))
    return Files(
        inputs={
            "okta": [lines("okta.jsonl", okta_records())],
            "cloudtrail": [str(ct)],
            "entra": [lines("entra.jsonl", entra_lines())],
            "windows": [lines("windows.jsonl", windows_records())],
        },
        identities=identities,
    )

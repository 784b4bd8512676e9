"""Windows Security events: each producer shape, the accounts, and the corpus' attack records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from seamwatch.udfs.errors import NormalizeError, NotOfInterest
from seamwatch.udfs.records import Event, Identifier
from seamwatch.udfs.windows import normalize_windows
from seamwatch.udfs.windows_identity import account

SID = "S-1-5-21-1111111111-2222222222-3333333333-1104"


def _logon_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "SubjectUserSid": "S-1-5-18",
        "SubjectUserName": "WKS01$",
        "SubjectDomainName": "CORP",
        "TargetUserSid": SID,
        "TargetUserName": "jsmith",
        "TargetDomainName": "CORP",
        "LogonType": "3",
        "AuthenticationPackageName": "NTLM",
        "WorkstationName": "LAPTOP7",
        "IpAddress": "::ffff:198.51.100.20",
    }
    data.update(overrides)
    return data


def _ids(event: Event) -> list[str]:
    return [f"{i.kind}:{i.value}" for i in event.identifiers]


def test_evtx_json_logon() -> None:
    rec = {
        "Event": {
            "System": {
                "EventID": {"#attributes": {"Qualifiers": 0}, "#text": 4624},
                "TimeCreated": {"#attributes": {"SystemTime": "2024-05-01T10:00:00.123456Z"}},
                "EventRecordID": 77,
                "Channel": "Security",
                "Computer": "SRV01.corp.example",
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
            },
            "EventData": _logon_data(),
        }
    }
    event = normalize_windows(rec, "f:1")
    assert (event.action, event.outcome, event.logon_type) == ("logon", "success", "3")
    assert event.event_time == 1_714_557_600_123
    assert event.host == "srv01.corp.example" and event.event_code == "4624"
    assert event.event_id == "srv01.corp.example:4624:77"
    assert event.principal == "CORP\\jsmith" and event.principal_type == "user"
    assert _ids(event) == [f"ad_sid:{SID}", "ad_account:corp\\jsmith", "ad_sam:jsmith"]
    assert event.src_ip == "198.51.100.20" and event.src_host == "LAPTOP7"
    assert event.auth_protocol == "NTLM"


def test_evtx_data_as_named_items() -> None:
    """xmltodict-style EventData: a list of {"@Name", "#text"} items."""
    rec = {
        "Event": {
            "System": {
                "EventID": "4625",
                "TimeCreated": {"@SystemTime": "2024-05-01T10:00:00Z"},
                "Channel": "Security",
                "Computer": "srv01",
            },
            "EventData": {
                "Data": [
                    {"@Name": k, "#text": v}
                    for k, v in _logon_data(Status="0xc000006d", SubStatus="0xc000006a").items()
                ]
            },
        }
    }
    event = normalize_windows(rec, "f:1")
    assert (event.action, event.outcome, event.error_code) == ("logon", "failure", "0xc000006a")


def test_ecs_winlogbeat_record() -> None:
    rec = {
        "@timestamp": "2024-05-01T10:00:00.500Z",
        "event": {"code": "4769", "provider": "Microsoft-Windows-Security-Auditing"},
        "host": {"name": "dc01.corp.example"},
        "winlog": {
            "channel": "Security",
            "computer_name": "DC01.corp.example",
            "record_id": 9,
            "event_data": {
                "TargetUserName": "jsmith@CORP.EXAMPLE",
                "TargetDomainName": "CORP.EXAMPLE",
                "ServiceName": "svc-sql",
                "TicketEncryptionType": "0x17",
                "Status": "0x0",
                "IpAddress": "::ffff:10.0.0.8",
            },
        },
    }
    event = normalize_windows(rec, "f:1")
    assert event.action == "kerberos_service_ticket_request" and event.outcome == "success"
    assert event.ticket_encryption == "0x17" and event.target_user == "svc-sql"
    assert event.principal == "CORP.EXAMPLE\\jsmith"
    assert _ids(event) == [
        "ad_account:corp.example\\jsmith",
        "ad_sam:jsmith",
        "email:jsmith@corp.example",
    ]
    assert event.src_ip == "10.0.0.8" and event.host == "dc01.corp.example"


def _nxlog(**overrides: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "EventID": 4624,
        "EventTime": "2020-08-05 02:10:02",
        "EventReceivedTime": "2020-08-05 02:10:03",
        "@timestamp": "2020-08-05T06:10:03.798Z",
        "Hostname": "DC01.corp.example",
        "Channel": "security",
        "RecordNumber": 5,
        **_logon_data(),
    }
    rec.update(overrides)
    return rec


def test_nxlog_local_time_is_shifted_by_the_collectors_offset() -> None:
    """EventTime is local (UTC-4 here); the shipper's @timestamp gives the offset."""
    event = normalize_windows(_nxlog(), "f:1")
    assert event.event_time == 1_596_607_802_000  # 2020-08-05T06:10:02Z


@pytest.mark.parametrize(
    "overrides",
    [
        {"@timestamp": None},  # no shipper time
        {"@timestamp": "2020-08-05T06:17:03Z"},  # 7 minutes in transit: not trusted
    ],
)
def test_nxlog_time_without_a_trusted_offset_is_read_as_utc(overrides: dict[str, Any]) -> None:
    event = normalize_windows(_nxlog(**overrides), "f:1")
    assert event.event_time == 1_596_593_402_000  # 2020-08-05T02:10:02Z


def test_log_analytics_xml_event_data() -> None:
    xml = (
        '<EventData xmlns="x"><Data Name="SubjectUserSid">' + SID + "</Data>"
        '<Data Name="SubjectUserName">jsmith</Data><Data Name="SubjectDomainName">CORP</Data>'
        '<Data Name="MemberName">CN=Eve Doe,OU=Staff,DC=corp</Data>'
        '<Data Name="MemberSid">S-1-5-21-1-2-3-1200</Data>'
        '<Data Name="TargetUserName">Domain Admins</Data>'
        '<Data Name="TargetDomainName">CORP</Data></EventData>'
    )
    rec = {
        "TimeGenerated": "2022-05-13T08:54:05.21Z",
        "Computer": "DC01",
        "Channel": "Security",
        "EventID": 4728,
        "EventData": xml,
    }
    event = normalize_windows(rec, "f:1")
    assert event.action == "group_member_added"
    assert event.target_group == "CORP\\Domain Admins" and event.target_user == "Eve Doe"
    assert event.principal == "CORP\\jsmith"


def test_other_channels_and_ids_are_not_of_interest_and_broken_records_are_errors() -> None:
    with pytest.raises(NotOfInterest, match="event id 4658 is not read"):
        normalize_windows(_nxlog(EventID=4658), "f:1")
    with pytest.raises(NotOfInterest, match="channel 'Microsoft-Windows-Sysmon/Operational'"):
        normalize_windows(_nxlog(Channel="Microsoft-Windows-Sysmon/Operational"), "f:1")
    with pytest.raises(NotOfInterest, match="4662 without replication rights"):
        normalize_windows(_nxlog(EventID=4662, Properties="%%7684 {bf967a86-0de6}"), "f:1")
    with pytest.raises(NormalizeError, match="no EventID"):
        normalize_windows({"Hostname": "x"}, "f:1")
    with pytest.raises(NormalizeError, match="no usable event time"):
        normalize_windows(_nxlog(EventTime="yesterday", **{"@timestamp": None}), "f:1")


def test_well_known_and_machine_accounts() -> None:
    system = account("S-1-5-18", "SYSTEM", "NT AUTHORITY", "wks01.corp.example")
    assert system.kind == "well_known"
    assert system.identifiers == (
        Identifier("ad_account", "nt authority\\system@wks01.corp.example"),
    )
    machine = account("S-1-5-18", "WKS01$", "CORP", "wks01")
    assert machine.kind == "machine"
    assert [i.kind for i in machine.identifiers] == ["ad_account", "ad_sam"]
    assert account("S-1-0-0", "-", "-").identifiers == ()
    assert account(None, "CORP\\Jsmith").identifiers[0] == Identifier("ad_account", "corp\\jsmith")


def test_upn_typed_at_logon_and_kerberos_principal() -> None:
    """A UPN's local part need not be the sAMAccountName; a Kerberos principal's is."""
    upn = account("S-1-0-0", "Jane.Doe@Corp.Example", "")
    assert upn.principal == "Jane.Doe@Corp.Example"
    assert upn.identifiers == (Identifier("email", "jane.doe@corp.example"),)
    kerberos = account(None, "jdoe@CORP.EXAMPLE", "CORP.EXAMPLE", realm=True)
    assert [(i.kind, i.value) for i in kerberos.identifiers] == [
        ("ad_account", "corp.example\\jdoe"),
        ("ad_sam", "jdoe"),
        ("email", "jdoe@corp.example"),
    ]


# --- the corpus' labelled attack records ---------------------------------------------------


def _corpus_events(corpus_dir: Path, name: str) -> Iterator[Event]:
    path = corpus_dir / "windows" / name
    for number, line in enumerate(path.read_bytes().splitlines(), 1):
        try:
            yield normalize_windows(orjson.loads(line), f"{name}:{number}")
        except NotOfInterest:
            continue


def test_dcsync_4662_with_replication_rights(corpus_dir: Path) -> None:
    name = "otrf_security-datasets_covenant_dcsync_dcerpc_drsuapi_DsGetNCChanges.jsonl"
    found = [e for e in _corpus_events(corpus_dir, name) if e.event_code == "4662"]
    assert {e.action for e in found} == {"directory_replication_rights_used"}
    rights = {r for e in found for r in (e.access_rights or "").split(",")}
    assert {"DS-Replication-Get-Changes", "DS-Replication-Get-Changes-All"} <= rights
    assert {e.principal for e in found} == {"THESHIRE\\pgustavo"}
    assert all(e.principal_type == "user" and e.host == "mordordc.theshire.local" for e in found)
    # NXLog local time (EDT, "2020-08-05 02:10:02") shifted to UTC by the collector's offset.
    assert min(e.event_time for e in found) // 1000 == 1_596_607_802  # 2020-08-05T06:10:02Z


def test_rubeus_asktgt_rc4(corpus_dir: Path) -> None:
    name = "otrf_security-datasets_empire_shell_rubeus_asktgt_ptt.jsonl"
    [tgt] = [e for e in _corpus_events(corpus_dir, name) if e.event_code == "4768"]
    assert tgt.action == "kerberos_tgt_request" and tgt.outcome == "success"
    assert tgt.ticket_encryption == "0x17"  # RC4-HMAC: Rubeus /rc4
    assert tgt.identifiers[0] == Identifier(
        "ad_sid", "S-1-5-21-4228717743-1032521047-1810997296-1104"
    )
    assert tgt.src_ip == "172.18.39.6"


def test_kerberoast_style_service_tickets_with_rc4(corpus_dir: Path) -> None:
    name = "otrf_security-datasets_purplesharp_ad_playbook_I.jsonl"
    tickets = [e for e in _corpus_events(corpus_dir, name) if e.event_code == "4769"]
    rc4 = {e.target_user for e in tickets if e.ticket_encryption == "0x17"}
    assert {"sysmonsvc", "nxlogsvc", "defensesvc", "otrsvc", "mordorsvc"} <= rc4
    assert not any(user.endswith("$") for user in rc4 if user)  # computers use AES


def test_mimikatz_overpass_the_hash_logon_type_9(corpus_dir: Path) -> None:
    name = "otrf_security-datasets_empire_mimikatz_opth.jsonl"
    [opth] = [e for e in _corpus_events(corpus_dir, name) if e.logon_type == "9"]
    assert opth.action == "logon" and opth.outcome == "success" and opth.event_code == "4624"
    assert opth.principal == "SHIRE\\pgustavo"
    assert opth.target_user == "shire.com\\Mmidge"  # the impersonated network credentials
    assert opth.auth_protocol == "Negotiate" and opth.host == "it001.shire.com"


def test_password_spray_failures(corpus_dir: Path) -> None:
    name = "otrf_security-datasets_purplesharp_ad_playbook_I.jsonl"
    failed = [e for e in _corpus_events(corpus_dir, name) if e.outcome == "failure"]
    logons = [e for e in failed if e.action == "logon"]
    assert len(logons) == 7 and {e.error_code for e in logons} == {"0xc000006a"}
    assert len({e.principal for e in logons}) == 7  # seven users, one attempt each
    assert {e.action for e in failed} == {"logon", "ntlm_credential_validation"}


def test_log_cleared_and_privileged_group_adds(corpus_dir: Path) -> None:
    name = "yamato-security_hayabusa-sample-evtx_evtx-to-mitre-attack_security.jsonl"
    events = list(_corpus_events(corpus_dir, name))
    cleared = [e for e in events if e.action == "security_log_cleared"]
    assert len(cleared) == 31 and all(e.principal for e in cleared)
    groups = {e.target_group for e in events if e.action == "group_member_added"}
    assert {"OFFSEC\\Domain Admins", "OFFSEC\\Enterprise Admins"} <= groups


def test_golden_saml_adfs_dkm_key_read(corpus_dir: Path) -> None:
    name = "otrf_security-datasets_GoldenSAMLADFSMailAccess_WindowsEvents.jsonl"
    reads = [e for e in _corpus_events(corpus_dir, name) if e.event_code == "4662"]
    assert len(reads) == 5 and {e.action for e in reads} == {"adfs_dkm_key_read"}
    assert {e.principal for e in reads} == {"SIMULANDLABS\\wardog"}


def test_adfs_caller_claims_501_is_an_adfs_sign_in(corpus_dir: Path) -> None:
    # The lab's AD FS server (Log Analytics row): its 501 names who got a token; the 412 of the
    # same issuance names nobody and stays unread.
    name = "otrf_security-datasets_GoldenSAMLADFSMailAccess_WindowsEvents.jsonl"
    [sign_in] = [e for e in _corpus_events(corpus_dir, name) if e.action == "adfs_sign_in"]
    assert (sign_in.event_code, sign_in.outcome, sign_in.host) == (
        "501",
        "success",
        "adfs01.simulandlabs.com",
    )
    assert sign_in.principal == "SIMULANDLABS\\adfsadmin" and sign_in.principal_type == "user"
    assert _ids(sign_in)[:2] == [
        "ad_sid:S-1-5-21-2490359158-13971675-3780420524-1103",
        "ad_account:simulandlabs\\adfsadmin",
    ]


def test_adfs_501_as_nxlog_keeps_it_in_the_rendered_message() -> None:
    claims = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"
    message = (
        "More information for the event entry with Instance ID d7a4. \r\n\r\nCaller identity: "
        f"\r\n{claims}/name \r\nCORP\\merry \r\n"
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/primarysid \r\n"
        f"{SID} \r\n"
    )
    rec = {
        "SourceName": "AD FS Auditing",
        "Channel": "Security",
        "Hostname": "ADFS01.corp.local",
        "TimeCreated": "2026-03-02T10:00:00.000Z",
        "EventID": 501,
        "Message": message,
    }
    event = normalize_windows(rec, "f:1")
    assert (event.action, event.principal) == ("adfs_sign_in", "CORP\\merry")
    assert _ids(event) == [f"ad_sid:{SID}", "ad_account:corp\\merry", "ad_sam:merry"]
    # The second 501 of a long claim set carries only group SIDs: nobody to name.
    rest = {**rec, "Message": f"Caller identity: \r\n{claims}/groupsid \r\nS-1-1-0"}
    with pytest.raises(NotOfInterest, match="without a caller"):
        normalize_windows(rest, "f:2")
    with pytest.raises(NotOfInterest, match="of 'Some-Other-Provider' is not read"):
        normalize_windows({**rec, "SourceName": "Some-Other-Provider"}, "f:3")


def _adfs_audit(result: str, user: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-16"?><AuditBase xsi:type="AppTokenAudit">'
        f"<AuditType>AppToken</AuditType><AuditResult>{result}</AuditResult>"
        '<ContextComponents><Component xsi:type="ResourceAuditComponent">'
        f"<RelyingParty>urn:amazon:webservices</RelyingParty><UserId>{user}</UserId>"
        '</Component><Component xsi:type="RequestAuditComponent">'
        "<IpAddress>198.51.100.7,10.0.0.4</IpAddress></Component></ContextComponents>"
        "</AuditBase>"
    )


def test_adfs_2016_audits_1200_and_1203_read_the_audit_xml() -> None:
    def evtx(event_id: int, xml: str) -> dict[str, Any]:
        return {
            "Event": {
                "System": {
                    "EventID": event_id,
                    "TimeCreated": {"#attributes": {"SystemTime": "2026-03-02T10:00:00Z"}},
                    "EventRecordID": 9,
                    "Channel": "Security",
                    "Computer": "ADFS01.corp.local",
                    "Provider": {"#attributes": {"Name": "AD FS Auditing"}},
                },
                "EventData": {"Data": ["00000000-0000-0000-0000-000000000000", xml]},
            }
        }

    issued = normalize_windows(evtx(1200, _adfs_audit("Success", "CORP\\merry")), "f:1")
    assert (issued.action, issued.outcome, issued.principal) == (
        "adfs_sign_in",
        "success",
        "CORP\\merry",
    )
    assert issued.src_ip == "198.51.100.7"  # the client, before the proxy's address
    refused = normalize_windows(evtx(1203, _adfs_audit("Failure", "merry@corp.example")), "f:2")
    assert (refused.outcome, _ids(refused)) == ("failure", ["email:merry@corp.example"])
    with pytest.raises(NotOfInterest, match="without a UserId"):
        normalize_windows(evtx(1200, _adfs_audit("Success", "N/A")), "f:3")


# --- records labelled by the ATT&CK folder of their .evtx file (hayabusa-sample-evtx) ------

HAYABUSA = "yamato-security_hayabusa-sample-evtx_evtx-to-mitre-attack_security.jsonl"


def _labelled(corpus_dir: Path, evtx_name: str) -> list[Event]:
    """The events read from the lines whose label names ``evtx_name`` (its file name)."""
    labels_path = corpus_dir / "labels" / "windows" / f"{HAYABUSA[: -len('.jsonl')]}.labels.json"
    rows = orjson.loads(labels_path.read_bytes())["rows"]
    wanted = {row["line"] for row in rows if row["evtx_file"].endswith(f"/{evtx_name}")}
    assert wanted, evtx_name
    lines = (corpus_dir / "windows" / HAYABUSA).read_bytes().splitlines()
    events = []
    for number in sorted(wanted):
        try:
            events.append(
                normalize_windows(orjson.loads(lines[number - 1]), f"{HAYABUSA}:{number}")
            )
        except NotOfInterest:
            continue
    return events


def test_labelled_mimikatz_dcsync(corpus_dir: Path) -> None:
    events = _labelled(corpus_dir, "ID4662-DCsync attack using Mimikatz.evtx")
    by_users = [
        e
        for e in events
        if e.action == "directory_replication_rights_used" and e.principal_type == "user"
    ]
    assert by_users
    assert any("DS-Replication-Get-Changes-All" in (e.access_rights or "") for e in by_users)
    assert all(e.identifiers[0].kind == "ad_sid" for e in by_users)


def test_labelled_kerberoast_and_asrep_roast(corpus_dir: Path) -> None:
    roast = _labelled(corpus_dir, "ID4769-Kerberoast ticket with low encryption.evtx")
    rc4 = [e for e in roast if e.ticket_encryption == "0x17"]
    assert rc4 and {e.action for e in rc4} == {"kerberos_service_ticket_request"}
    assert all(e.target_user for e in rc4)
    asrep = _labelled(corpus_dir, "ID4768-Kerberos AS-REP Roasting.evtx")
    assert [(e.action, e.auth_method) for e in asrep] == [("kerberos_tgt_request", "0")]


def test_labelled_kerbrute_enumeration_fails(corpus_dir: Path) -> None:
    events = _labelled(corpus_dir, "ID4768-4771-Kerberos user enumeration (Kerbrute).evtx")
    failures = [e for e in events if e.outcome == "failure"]
    assert failures and {e.action for e in failures} == {"kerberos_tgt_request"}
    assert all(e.error_code for e in failures)


def test_labelled_log_cleared(corpus_dir: Path) -> None:
    [cleared] = _labelled(corpus_dir, "ID104-1102-Event log cleared.evtx")
    assert cleared.action == "security_log_cleared" and cleared.principal == "OFFSEC\\admmig"

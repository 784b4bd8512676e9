"""`seamwatch identities coverage`: shares by method and the top unresolved identifiers."""

from __future__ import annotations

from pathlib import Path

import orjson
import yaml
from typer.testing import CliRunner

from seamwatch.cli.app import app
from seamwatch.rules.coverage_report import measure
from seamwatch.udfs.identity import IdentityGraph, load_identity_file
from tests.scenarios import Scenario, chained_use_an_hour_later, key_only_attack


def test_coverage_counts_each_method_and_lists_strangers(tmp_path: Path) -> None:
    scenario = Scenario()
    issued = key_only_attack(scenario, "kai.nakamura", seed=1)
    chained_use_an_hour_later(scenario, "kai.nakamura", issued, ip="203.0.113.50", seed=2)
    (tmp_path / "ids.yaml").write_text(yaml.safe_dump(scenario.identities()))
    okta = tmp_path / "okta.jsonl"
    okta.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in scenario.okta))
    stranger = dict(scenario.cloudtrail[1])  # a CreateAccessKey, now by an unknown IAM user
    stranger["userIdentity"] = {
        "type": "IAMUser",
        "arn": "arn:aws:iam::111122223333:user/ghost",
        "accountId": "111122223333",
        "userName": "ghost",
    }
    stranger["eventID"] = "ghost-1"
    ct = tmp_path / "ct.jsonl"
    ct.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in [*scenario.cloudtrail, stranger]))
    (tmp_path / "bad.jsonl").write_text("{oops\n")

    coverage = measure(
        {"okta": [str(okta)], "cloudtrail": [str(ct), str(tmp_path / "bad.jsonl")]},
        load_identity_file(tmp_path / "ids.yaml"),
    )
    # Okta logins and the SAML call resolve statically; the three calls signed by issued keys
    # (arbitrary session names) resolve through learned links; the ghost does not resolve.
    assert coverage.by_method["static"] == 3
    assert coverage.by_method["learned"] == 3
    assert coverage.by_method["unresolved"] == 1
    assert (
        coverage.unresolved.most_common(1)[0][0] == "aws_arn:arn:aws:iam::111122223333:user/ghost"
    )
    assert coverage.dead_letters == 1
    assert coverage.by_source["okta"]["static"] == 2


def _okta_login(uuid: str, actor_id: str, login: str) -> bytes:
    return orjson.dumps(
        {
            "uuid": uuid,
            "published": "2026-03-10T09:00:00.000Z",
            "eventType": "user.session.start",
            "actor": {"id": actor_id, "type": "User", "alternateId": login},
            "outcome": {"result": "SUCCESS"},
        }
    )


def test_coverage_lists_okta_users_a_login_rename_split(tmp_path: Path) -> None:
    okta = tmp_path / "okta.jsonl"
    okta.write_bytes(
        b"\n".join(
            [
                _okta_login("1", "00u1maya", "maya@example.com"),
                _okta_login("2", "00u1maya", "maya.berg@example.com"),
                _okta_login("3", "00u1ola", "ola@example.com"),
                _okta_login("4", "00u1ola", "ola@example.com"),
            ]
        )
    )
    coverage = measure({"okta": [str(okta)]}, IdentityGraph())
    assert coverage.split_okta_users == {
        "00u1maya": ["email:maya.berg@example.com", "email:maya@example.com"]
    }
    result = CliRunner().invoke(app, ["identities", "coverage", "--input", f"okta={okta}"])
    assert result.exit_code == 0, result.output
    assert "Okta users seen as several entities (1;" in result.output
    assert "00u1maya: email:maya.berg@example.com, email:maya@example.com" in result.output
    assert "00u1ola" not in result.output

"""The compliance evidence pack (OPS-64, issue 6 part 6): command, API, contents, secrets, reproducibility."""

import csv
import datetime
import hashlib
import io
import json
import zipfile
from pathlib import Path
from unittest import mock

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction
from rest_framework.test import APIClient

from governance.choices import Role
from governance.models import AuditEvent, SsoIdentity, User
from governance.services.evidence import EVIDENCE_PACK_GENERATED
from governance.services.scopes import user_scopes_set
from governance.services.users import api_token_create, api_token_revoke, user_set_role
from planning.services import category_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/governance/evidence-pack"
PERIOD = ("2020-03-01", "2020-03-31")
SECTION_FILES = {
    "audit_log.jsonl", "audit_log.csv", "role_assignments.json", "role_assignments.csv", "role_changes.json",
    "role_changes.csv", "access_review_users.json", "access_review_users.csv", "access_review_api_tokens.json",
    "access_review_api_tokens.csv", "publish_readiness.json", "publish_readiness_evaluations.csv",
    "publish_readiness_publications.csv", "forecast_job_metrics.json", "audit_chain.json",
    "security_controls.json", "security_controls.csv",
}  # fmt: skip
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def at(day: str):
    """Run the block as if it were noon UTC of `day` (audit rows and auto timestamps follow)."""
    moment = datetime.datetime.fromisoformat(f"{day}T12:00:00+00:00")
    return mock.patch("django.utils.timezone.now", return_value=moment)


def run_pack(out: Path, start: str = PERIOD[0], end: str = PERIOD[1]) -> Path:
    call_command("evidence_pack", "--from", start, "--to", end, "--out", str(out), stdout=io.StringIO())
    return out


def load(folder: Path, name: str):
    return json.loads((folder / name).read_text())


def csv_rows(folder: Path, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO((folder / name).read_text())))


@pytest.fixture
def world(users, make_user):
    """A planner whose role changed inside the period (March) and again after it (April), a token, an MFA user."""
    admin = users[Role.ADMIN]
    with at("2020-02-01"):
        planner = make_user(Role.DEMAND_PLANNER, email="moving@example.test")
    with at("2020-03-15"):
        user_set_role(actor=admin, user=planner, role=Role.SUPPLY_PLANNER)
        token, plaintext = api_token_create(actor=admin, user=planner, name="ERP feed", scopes=["planning:read"])
        category = category_create(actor=admin, name="Apparel")
        user_scopes_set(actor=admin, user=users[Role.FINANCE_ANALYST], scopes=[
            {"type": "category", "id": category.pk, "access": "view"}])  # fmt: skip
    SsoIdentity.objects.create(user=users[Role.VIEWER], issuer="https://idp.example.test", subject="sub-42")
    with at("2020-04-15"):
        user_set_role(actor=admin, user=planner, role=Role.INVENTORY_MANAGER)
    with transaction.atomic():
        Authenticator.objects.create(user=users[Role.EXECUTIVE], type=Authenticator.Type.TOTP,
                                     data={"secret": TOTP_SECRET})  # fmt: skip
    return {"admin": admin, "planner": planner, "category": category, "token": token, "plaintext": plaintext,
            "mfa": users[Role.EXECUTIVE], "finance": users[Role.FINANCE_ANALYST]}  # fmt: skip


def test_the_pack_holds_every_section_with_the_rows_of_the_period(world, tmp_path):
    # Given role changes in and after March, a token and an MFA-enrolled executive
    # When the March pack is written
    pack = run_pack(tmp_path / "pack")

    # Then every section is there, listed in the manifest with its hash
    manifest = load(pack, "manifest.json")
    assert {f["name"] for f in manifest["files"]} == SECTION_FILES
    assert {p.name for p in pack.iterdir()} == SECTION_FILES | {"manifest.json"}
    for entry in manifest["files"]:
        assert hashlib.sha256((pack / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
    assert manifest["period"]["from"] == "2020-03-01"
    assert manifest["period"]["end_exclusive"] == "2020-04-01T00:00:00Z"
    assert manifest["period_closed"] is True

    # The audit log holds exactly the period's rows, oldest first
    lines = [json.loads(line) for line in (pack / "audit_log.jsonl").read_text().splitlines()]
    expected = AuditEvent.objects.filter(occurred_at__year=2020, occurred_at__month=3).order_by("occurred_at", "id")
    assert [row["id"] for row in lines] == list(expected.values_list("id", flat=True))
    assert {row["event_type"] for row in lines} == {
        "governance.user.role_changed", "governance.api_token.created", "planning.category.created",
        "governance.scope.granted",
    }  # fmt: skip
    assert len(csv_rows(pack, "audit_log.csv")) == len(lines)

    # Role changes: the March change and scope grant only, not April's change
    changes = load(pack, "role_changes.json")["rows"]
    assert [(c["event_type"], c["user"], c["role_before"], c["role_after"], c["scope"]) for c in changes] == [
        ("governance.user.role_changed", str(world["planner"]), "demand_planner", "supply_planner", None),
        ("governance.scope.granted", str(world["finance"]), None, None, {"type": "category", "id": world["category"].pk,
                                                                     "access": "view"}),
    ]  # fmt: skip
    assert changes[0]["user_id"] == str(world["planner"].pk)
    assert changes[0]["actor_name"] == world["admin"].email
    assert csv_rows(pack, "role_changes.csv")[0]["role_after"] == "supply_planner"
    assignments = {r["email"]: r for r in load(pack, "role_assignments.json")["rows"]}
    assert assignments["moving@example.test"]["role"] == "inventory_manager"  # the current role

    # Access review: MFA, roles, the token with owner, scopes, expiry and status
    review = {r["email"]: r for r in load(pack, "access_review_users.json")["rows"]}
    assert review[world["mfa"].email]["mfa_enrolled"] is True
    assert review["moving@example.test"]["mfa_enrolled"] is False
    assert review[world["admin"].email]["role"] == "admin"
    assert review["viewer@example.test"]["sso_identities"] == ["https://idp.example.test sub-42"]
    assert review["finance_analyst@example.test"]["object_scopes"] == ["category:Apparel:view"]
    tokens = {r["name"]: r for r in load(pack, "access_review_api_tokens.json")["rows"]}
    erp = tokens["ERP feed"]
    assert (erp["owner_email"], erp["scopes"], erp["revoked"]) == ("moving@example.test", ["planning:read"], False)
    assert erp["expires_at"] == "2020-06-13T12:00:00Z"
    assert erp["prefix"] == world["token"].prefix
    assert {r["name"] for r in csv_rows(pack, "access_review_api_tokens.csv")} == set(tokens)

    # No readiness evaluation or publication in March: the section is there, empty (tests/governance/
    # test_readiness_evidence.py fills it)
    readiness = load(pack, "publish_readiness.json")
    assert readiness["status"] == "available"
    assert [readiness[k] for k in ("evaluations", "overrides", "publications", "rollbacks")] == [[], [], [], []]
    assert csv_rows(pack, "publish_readiness_evaluations.csv") == []
    assert load(pack, "forecast_job_metrics.json")["total_jobs"] == 0

    # The chain as of the period end verifies, and its head is the last row of March
    chain = load(pack, "audit_chain.json")
    last = expected.last()
    assert chain["ok"] is True
    assert chain["head_at_period_end"] == {"seq": last.chain_seq, "hash": last.chain_hash}
    assert chain["rows_checked"] == last.chain_seq

    controls = load(pack, "security_controls.json")["controls"]
    assert controls["tokens"]["api_token_pepper_set"] is True
    assert controls["sessions"]["idle_timeout_minutes"] == settings.SESSION_IDLE_TIMEOUT_MINUTES
    assert controls["environment"] == settings.ENVIRONMENT
    assert controls["debug"] is False
    assert {"setting": "lockout.max_failures", "value": str(settings.LOGIN_MAX_FAILURES)} in csv_rows(
        pack, "security_controls.csv"
    )


def test_the_run_is_audited_with_the_period_and_the_file_hashes(world, tmp_path):
    pack = run_pack(tmp_path / "pack")

    event = AuditEvent.objects.get(event_type=EVIDENCE_PACK_GENERATED)
    manifest = load(pack, "manifest.json")
    assert (event.source, event.actor_id, event.target_id) == ("cli", None, "2020-03-01_2020-03-31")
    assert event.after == {"from": "2020-03-01", "to": "2020-03-31"}
    assert event.metadata["files"] == [{"name": f["name"], "sha256": f["sha256"]} for f in manifest["files"]]
    assert event.metadata["manifest_sha256"] == hashlib.sha256((pack / "manifest.json").read_bytes()).hexdigest()


def test_no_secret_reaches_the_pack(world, tmp_path):
    revoked, _ = api_token_create(actor=world["admin"], user=world["admin"], name="Old", scopes=["planning:read"])
    api_token_revoke(actor=world["admin"], token=revoked, reason="rotated")
    pack = run_pack(tmp_path / "pack", "2020-01-01", datetime.datetime.now(tz=datetime.UTC).date().isoformat())

    text = "\n".join(p.read_text() for p in pack.iterdir())
    secrets = [settings.SECRET_KEY, settings.API_TOKEN_PEPPER, world["plaintext"], world["plaintext"].split("_")[-1],
               world["token"].digest, revoked.digest, TOTP_SECRET, "pbkdf2_sha256$"]  # fmt: skip
    secrets += [u.password for u in User.objects.exclude(password="") if not u.password.startswith("!")]
    for secret in secrets:
        assert secret
        assert secret not in text
    tokens = {r["name"]: r for r in load(pack, "access_review_api_tokens.json")["rows"]}
    assert tokens["Old"]["revoked"] is True
    assert tokens["Old"]["revoke_reason"] == "rotated"


def test_the_same_data_and_period_give_byte_identical_files(world, tmp_path):
    first, second = run_pack(tmp_path / "one"), run_pack(tmp_path / "two")

    one, two = load(first, "manifest.json"), load(second, "manifest.json")
    assert one["files"] == two["files"]
    for entry in one["files"]:
        assert (first / entry["name"]).read_bytes() == (second / entry["name"]).read_bytes()
    assert one["chain_at_generation"]["head_seq"] < two["chain_at_generation"]["head_seq"]  # the first run's row
    assert len(two["chain_at_generation"]["head_hash"]) == 64
    assert two["chain_at_generation"]["ok"] is True


def test_the_command_refuses_bad_dates_and_a_used_directory(db, tmp_path):
    for start, end in (("2020-13-01", "2020-12-31"), ("2020-03-31", "2020-03-01"), ("March", "2020-03-31"),
                       ("2020-3-1", "2020-03-31")):  # fmt: skip
        with pytest.raises(CommandError, match="Invalid period"):
            run_pack(tmp_path / "bad", start, end)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("keep me")
    with pytest.raises(CommandError, match="not an empty directory"):
        run_pack(tmp_path / "used")
    assert not AuditEvent.objects.filter(event_type=EVIDENCE_PACK_GENERATED).exists()


def _zip_files(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


def _client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_admins_download_the_pack_as_a_zip_and_the_download_is_audited(world):
    client = _client(world["admin"])

    response = client.get(URL, {"from": PERIOD[0], "to": PERIOD[1]})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="genxsop-evidence-2020-03-01_2020-03-31.zip"' in response["Content-Disposition"]
    files = _zip_files(b"".join(response.streaming_content))
    assert set(files) == SECTION_FILES | {"manifest.json"}
    manifest = json.loads(files["manifest.json"])
    assert manifest["generated_by"] == world["admin"].email
    assert manifest["parameters"]["source"] == "api"
    for entry in manifest["files"]:
        assert hashlib.sha256(files[entry["name"]]).hexdigest() == entry["sha256"]
    event = AuditEvent.objects.get(event_type=EVIDENCE_PACK_GENERATED)
    assert (event.actor_id, event.source) == (world["admin"].pk, "api")

    again = _zip_files(b"".join(client.get(URL, {"from": PERIOD[0], "to": PERIOD[1]}).streaming_content))
    assert {k: v for k, v in again.items() if k != "manifest.json"} == {
        k: v for k, v in files.items() if k != "manifest.json"
    }


def test_the_api_takes_the_same_pack_with_a_token(world, api_client_for):
    client = api_client_for(world["admin"], scopes=["governance:read"])
    assert client.get(URL, {"from": PERIOD[0], "to": PERIOD[1]}).status_code == 200
    planning_only = api_client_for(world["admin"], scopes=["planning:read"])
    assert planning_only.get(URL, {"from": PERIOD[0], "to": PERIOD[1]}).status_code == 403


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_only_admins_may_take_the_pack(users, role):
    response = _client(users[role]).get(URL, {"from": PERIOD[0], "to": PERIOD[1]})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    assert not AuditEvent.objects.filter(event_type=EVIDENCE_PACK_GENERATED).exists()


def test_anonymous_callers_are_refused(anon_client):
    assert anon_client.get(URL, {"from": PERIOD[0], "to": PERIOD[1]}).status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [({}, "from"), ({"from": "2020-03-01"}, "to"), ({"from": "yesterday", "to": "2020-03-31"}, "from"),
     ({"from": "2020-03-31", "to": "2020-03-01"}, "to")],
)  # fmt: skip
def test_bad_periods_answer_400(admin_user, query, field):
    response = _client(admin_user).get(URL, query)
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "INVALID_PARAMETER"
    assert field in body["details"]["fields"]
    assert not AuditEvent.objects.filter(event_type=EVIDENCE_PACK_GENERATED).exists()

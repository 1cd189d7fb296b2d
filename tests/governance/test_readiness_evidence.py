"""The publish readiness section of the evidence pack (OPS-64): evaluations, publications, overrides, rollbacks."""

import csv
import datetime
import io
import json
from unittest import mock

import pytest
from django.core.management import call_command

from governance.choices import Role
from governance.models import Publication
from tests.governance.test_readiness_world import World


@pytest.fixture
def world(users):
    return World(users[Role.ADMIN])


def at(moment: str):
    return mock.patch("django.utils.timezone.now", return_value=datetime.datetime.fromisoformat(moment))


def test_the_pack_lists_evaluations_and_publications_with_overrides_and_rollbacks(world, tmp_path):
    with at("2020-03-10T09:00:00+00:00"):
        check = world.evaluate("monthly")
        at_publish = world.evaluate("monthly", dry_run=False, request_id="req-publish")
    with at("2020-03-11T09:00:00+00:00"):
        overridden = Publication.objects.create(
            version_stamp="M-202003-v1", lane="monthly", period_from=datetime.date(2020, 3, 1),
            period_to=datetime.date(2020, 8, 1), evaluation=at_publish, outcome="no_go_overridden",
            failed_gates=["plans_approved"], override_justification="Board approved the draft rows in the meeting",
            override_by=world.admin, published_by=world.admin,
            published_at=datetime.datetime(2020, 3, 11, 9, tzinfo=datetime.UTC),
            item_count=3, snapshot_sha256="a" * 64, request_id="req-publish",
        )  # fmt: skip
    Publication.objects.filter(pk=overridden.pk).update(
        status="rolled_back", rolled_back_by=world.admin, rollback_reason="Wrong horizon",
        rolled_back_at=datetime.datetime(2020, 3, 20, tzinfo=datetime.UTC),
    )  # fmt: skip
    with at("2020-04-02T09:00:00+00:00"):
        world.evaluate("weekly")  # after the period

    out = tmp_path / "pack"
    call_command("evidence_pack", "--from", "2020-03-01", "--to", "2020-03-31", "--out", str(out), stdout=io.StringIO())

    data = json.loads((out / "publish_readiness.json").read_text())
    assert data["status"] == "available"
    assert data["summary"] == {
        "evaluations": 2, "evaluation_audit_events": 2, "dry_run_evaluations": 1, "publish_evaluations": 1,
        "no_go_evaluations": [check.outcome, at_publish.outcome].count("no_go"), "publications": 1, "overrides": 1,
        "rollbacks": 1,
        "gate_validated_publications_pct": 100.0,
    }  # fmt: skip
    assert [(e["evaluation_id"], e["dry_run"], e["publication"]) for e in data["evaluations"]] == [
        (str(check.evaluation_id), True, ""), (str(at_publish.evaluation_id), False, "M-202003-v1")]  # fmt: skip
    (override,) = data["overrides"]
    assert override["outcome"] == "no_go_overridden"
    assert override["failed_gates"] == ["plans_approved"]
    assert override["override_justification"] == "Board approved the draft rows in the meeting"
    assert override["override_by"] == world.admin.email
    assert override["published_at"] == "2020-03-11T09:00:00Z"
    assert data["rollbacks"][0]["rollback_reason"] == "Wrong horizon"
    assert data["rollbacks"][0]["status_at_period_end"] == "rolled_back"

    rows = list(csv.DictReader(io.StringIO((out / "publish_readiness_evaluations.csv").read_text())))
    assert [r["dry_run"] for r in rows] == ["true", "false"]
    pubs = list(csv.DictReader(io.StringIO((out / "publish_readiness_publications.csv").read_text())))
    assert [(p["version_stamp"], p["outcome"], p["evaluation_dry_run"]) for p in pubs] == [
        ("M-202003-v1", "no_go_overridden", "false")]  # fmt: skip
    assert json.loads(pubs[0]["failed_gates"]) == ["plans_approved"]

    # February's pack: nothing of March, and the rollback is not there either
    feb = tmp_path / "feb"
    call_command("evidence_pack", "--from", "2020-02-01", "--to", "2020-02-29", "--out", str(feb), stdout=io.StringIO())
    empty = json.loads((feb / "publish_readiness.json").read_text())
    assert (empty["evaluations"], empty["publications"], empty["rollbacks"]) == ([], [], [])

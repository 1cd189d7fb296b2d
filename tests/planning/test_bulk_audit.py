"""The batch engine's audit rows (GOV-30, GOV-31): the rows copied in bulk on PostgreSQL are the rows
`audit.record_many` writes through the ORM, in the same hash chain, whatever the documents hold."""

import datetime
import json

import pytest
from django.db import transaction

from governance import audit, audit_chain
from governance.choices import ActorType
from governance.models import AuditEvent
from planning.choices import PlanSource
from planning.integrations.bulk import record_audit

pytestmark = pytest.mark.django_db

CONTENT = ("event_type", "target_type", "target_id", "target_repr", "actor_id", "actor_type", "actor_name", "source",
           "before", "after", "changed_fields", "message", "metadata")  # fmt: skip


def entries(actor, tag: str) -> list[dict]:
    shared = {"source": PlanSource.ERP, "channel": "api", "batch_uuid": f"b-{tag}"}  # one document for the batch
    return [
        # A plain snapshot pair, as an inventory update writes it.
        {
            "actor": actor,
            "event_type": f"tests.{tag}.updated",
            "target": actor,
            "metadata": shared,
            "before": {
                "on_hand_qty": "5.00",
                "status": "ok",
                "version": 1,
                "valuation_from_erp": False,
                "max_stock": None,
            },
            "after": {
                "on_hand_qty": "7.00",
                "status": "ok",
                "version": 2,
                "valuation_from_erp": True,
                "max_stock": None,
            },
        },
        # A created row: no before; a value that is a str subclass (a choice).
        {
            "actor": actor,
            "event_type": f"tests.{tag}.created",
            "target": actor,
            "metadata": shared,
            "after": {"source": PlanSource.ERP, "note": 'Grüße ✓ \U0001f600 "quoted" back\\slash'},
        },
        # Documents the hash normalises: floats (whole ones hash as integers), nesting, non-string keys.
        {
            "actor": actor,
            "event_type": f"tests.{tag}.odd",
            "target": actor,
            "message": "odd documents",
            "before": {"ratio": 2.0, "share": 0.25, "nested": {"list": [1, 2.0, {"x": None}]}},
            "after": {"ratio": 3.5, "count": 3.0},
            "metadata": {"weights": [1.0, 0.5], "source": "tests"},
        },
        # Secrets are redacted in both paths.
        {
            "actor": actor,
            "event_type": f"tests.{tag}.secret",
            "target": actor,
            "metadata": shared,
            "before": {"token": "t0"},
            "after": {"token": "t1", "name": "n"},
        },
    ]


def stored(tag: str) -> list[dict]:
    rows = AuditEvent.objects.filter(event_type__startswith=f"tests.{tag}.").order_by("chain_seq")
    return [{name: value.replace(f".{tag}.", ".") if name == "event_type" else value
             for name, value in row.items()} for row in rows.values(*CONTENT)]  # fmt: skip


def test_bulk_audit_rows_equal_the_orm_rows_and_the_chain_verifies(admin_user):
    with transaction.atomic():
        record_audit(entries(admin_user, "bulk"))
    with transaction.atomic():
        audit.record_many(entries(admin_user, "orm"))

    bulk, orm = stored("bulk"), stored("orm")
    assert len(bulk) == 4
    for row in bulk + orm:
        row["metadata"].pop("batch_uuid", None)
    assert bulk == orm
    assert bulk[0]["changed_fields"] == ["on_hand_qty", "valuation_from_erp", "version"]
    assert bulk[0]["actor_type"] == ActorType.USER
    assert bulk[2]["before"] == {"ratio": 2.0, "share": 0.25, "nested": {"list": [1, 2.0, {"x": None}]}}
    assert bulk[2]["after"] == {"ratio": 3.5, "count": 3.0}
    assert bulk[3]["after"] == {"token": "[redacted]", "name": "n"}
    result = audit_chain.verify()
    assert result.ok, result.first_problem
    assert result.rows_checked == AuditEvent.objects.count()


def test_the_hash_of_a_bulk_row_is_the_hash_of_its_stored_content(admin_user):
    with transaction.atomic():
        record_audit(entries(admin_user, "bulk"))
    names = ("chain_seq", "chain_hash", *audit_chain.CHAIN_FIELDS)
    rows = AuditEvent.objects.filter(event_type__startswith="tests.bulk.").order_by("chain_seq").values(*names)
    for row in rows:
        previous = AuditEvent.objects.filter(chain_seq=row["chain_seq"] - 1).values_list("chain_hash", flat=True)
        prev = previous.first() or audit_chain.GENESIS_HASH
        assert audit_chain.link(prev, row) == row["chain_hash"]


@pytest.mark.parametrize(
    "document",
    [
        {"a": 1, "b": "two", "c": None, "d": True},
        {"ratio": 2.0, "big": 1e16, "nan": float("nan"), "small": 0.1},
        {1: "one", 10: "ten", 9: "nine"},
        {True: "yes", None: "none"},
        {"nested": {"k": [1, 2.0, {"z": -0.0}]}, "t": (1, 2)},
        {"choice": PlanSource.ERP, "text": '\u2028 \U0001f600 "q" %s'},
        [],
        ["a", 1, None],
        "a string",
    ],
)
def test_the_batch_hash_is_the_canonical_hash_for_any_document(document):
    row = dict.fromkeys(audit_chain.CHAIN_FIELDS, "")
    at = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
    row.update(chain_seq=3, actor_id=None, api_token_id=7, occurred_at=at, before=document, after=document,
               changed_fields=["a"], metadata={"m": document})  # fmt: skip
    columns: dict = {}
    assert audit_chain._canonical_parts(row, {}, columns) == audit_chain.canonical(row)
    for name, value in columns.items():
        if isinstance(value, str):  # stored as the hashed text only where that text is the document itself
            assert json.loads(value) == row[name]
            assert json.dumps(json.loads(value), sort_keys=True) == json.dumps(row[name], sort_keys=True)
        else:
            assert value is row[name]

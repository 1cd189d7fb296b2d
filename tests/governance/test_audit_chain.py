"""The audit log is append-only and hash-chained (GOV-31, issue 6 part 5, ADR 0015)."""

import io
import json
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.models.deletion import ProtectedError

from governance import audit, audit_chain
from governance.models import AuditChainHead, AuditEvent
from tests.governance.audit_helpers import audit_log_reset, audit_triggers_lifted

pytestmark = pytest.mark.django_db


def write(actor, n: int = 1, **extra) -> list[AuditEvent]:
    with transaction.atomic():
        return [audit.record(actor=actor, event_type="tests.thing.changed", target=actor,
                             after={"n": i, "ratio": 2.0, "share": 0.25}, message=f"change {i}", **extra)
                for i in range(n)]  # fmt: skip


def verify_output(*args: str) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("verify_audit_chain", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


# Append-only at the database -------------------------------------------------------------------


def test_the_migrations_create_the_append_only_triggers():
    assert audit_chain.triggers_present()


def test_the_database_refuses_to_update_an_audit_row(admin_user):
    event = write(admin_user)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(message="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_events SET message = 'rewritten' WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.message == "change 0"


def test_the_database_refuses_to_delete_an_audit_row(admin_user):
    event = write(admin_user)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_events WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_a_person_who_acted_cannot_be_deleted_only_deactivated(make_user):
    # Nulling the actor would be an update of the audit row: the foreign key protects instead.
    user = make_user()
    write(user)
    with pytest.raises(ProtectedError), transaction.atomic():
        user.delete()


# The chain -------------------------------------------------------------------------------------


def test_rows_get_contiguous_sequence_numbers_and_linked_hashes(admin_user):
    start = AuditChainHead.objects.get().last_seq
    events = write(admin_user, 3)
    with transaction.atomic():
        bulk = audit.record_many([{"actor": admin_user, "event_type": "tests.thing.bulk", "target": admin_user,
                                   "after": {"i": i}} for i in range(4)])  # fmt: skip
    seqs = [e.chain_seq for e in [*events, *bulk]]
    assert seqs == list(range(start + 1, start + 8))
    rows = list(AuditEvent.objects.filter(chain_seq__gt=start).order_by("chain_seq"))
    prev = AuditEvent.objects.get(chain_seq=start).chain_hash if start else audit_chain.GENESIS_HASH
    for row in rows:
        assert row.chain_hash == audit_chain.link(prev, {f: getattr(row, f) for f in audit_chain.CHAIN_FIELDS})
        prev = row.chain_hash
    assert AuditChainHead.objects.get().last_seq == start + 7
    assert AuditChainHead.objects.get().last_hash == prev


def test_a_rolled_back_change_leaves_no_gap_in_the_chain(admin_user):
    def write_then_fail():
        with transaction.atomic():
            write(admin_user, 2)
            raise RuntimeError("boom")

    write(admin_user)
    with pytest.raises(RuntimeError):
        write_then_fail()
    write(admin_user)
    assert audit_chain.verify().ok


def test_an_untouched_log_verifies(admin_user):
    write(admin_user, 5)
    result = audit_chain.verify()
    assert result.ok
    assert result.rows_checked == AuditEvent.objects.count()
    assert result.triggers
    out, error = verify_output()
    assert error is None
    assert out.startswith(f"OK: {result.rows_checked} rows checked")


def test_an_edited_row_is_reported_with_its_id_and_sequence_number(admin_user):
    events = write(admin_user, 5)
    victim = events[2]
    # Given a superuser who switches the trigger off and edits one row's message
    with audit_triggers_lifted():
        AuditEvent.objects.filter(pk=victim.pk).update(message="nothing to see")
    result = audit_chain.verify()
    assert not result.ok
    assert result.first_problem.kind == "changed"
    assert result.first_problem.message.startswith(f"row id {victim.pk} seq {victim.chain_seq} content changed")
    out, error = verify_output("--json")
    assert error is not None
    assert error.returncode == 1
    assert json.loads(out)["first_problem"]["row_id"] == victim.pk


def test_an_edited_json_snapshot_is_caught_too(admin_user):
    victim = write(admin_user, 3)[1]
    with audit_triggers_lifted():
        AuditEvent.objects.filter(pk=victim.pk).update(after={"n": 1, "ratio": 2.0, "share": 0.26})
    assert audit_chain.verify().first_problem.seq == victim.chain_seq


def test_a_row_inserted_outside_the_writer_is_reported(admin_user):
    write(admin_user, 2)
    forged = AuditEvent.objects.create(actor_type="system", source="cli", event_type="tests.forged",
                                       target_type="user", target_id="1")  # fmt: skip
    result = audit_chain.verify()
    assert (result.ok, result.first_problem.kind) == (False, "inserted")
    assert (
        result.first_problem.message == f"row id {forged.pk} has no chain position: inserted outside the audit writer"
    )


def test_a_forged_row_appended_with_a_valid_looking_hash_is_reported(admin_user):
    last = write(admin_user, 2)[-1]
    forged = AuditEvent(actor_type="system", source="cli", event_type="tests.forged", target_type="user",
                        target_id="1", occurred_at=last.occurred_at, chain_seq=last.chain_seq + 1)  # fmt: skip
    forged.chain_hash = audit_chain.link(last.chain_hash, {f: getattr(forged, f) for f in audit_chain.CHAIN_FIELDS})
    forged.save(force_insert=True)
    problem = audit_chain.verify().first_problem
    assert problem.kind == "inserted"
    assert problem.message.startswith(f"row id {forged.pk} seq {forged.chain_seq} lies beyond the chain head")


def test_a_deleted_row_is_reported_as_a_gap(admin_user):
    events = write(admin_user, 4)
    victim = events[1]
    with audit_triggers_lifted():
        AuditEvent.objects.filter(pk=victim.pk).delete()
    problem = audit_chain.verify().first_problem
    assert problem.kind == "deleted"
    assert problem.message == (f"seq {victim.chain_seq} missing before row id {events[2].pk} seq "
                               f"{events[2].chain_seq}: row deleted")  # fmt: skip


def test_rows_deleted_from_the_end_are_reported_against_the_chain_head(admin_user):
    events = write(admin_user, 3)
    with audit_triggers_lifted():
        AuditEvent.objects.filter(pk__in=[e.pk for e in events[1:]]).delete()
    problem = audit_chain.verify().first_problem
    assert problem.kind == "deleted"
    assert problem.message.startswith(f"seqs {events[1].chain_seq}..{events[2].chain_seq} missing at the end")


def test_verification_can_start_from_a_sequence_number(admin_user):
    events = write(admin_user, 4)
    with audit_triggers_lifted():
        AuditEvent.objects.filter(pk=events[0].pk).update(message="edited")
    assert not audit_chain.verify().ok
    result = audit_chain.verify(from_seq=events[1].chain_seq)
    assert result.ok
    assert result.rows_checked == 3
    out, error = verify_output("--from-seq", str(events[1].chain_seq), "--json")
    assert error is None
    assert json.loads(out)["rows_checked"] == 3


def test_rows_written_before_the_chain_are_sealed_in_id_order(admin_user):
    # Given rows without a chain position (as before migration 0005) and an empty chain head
    write(admin_user, 2)
    with audit_triggers_lifted():
        AuditEvent.objects.update(chain_seq=None, chain_hash="")
        AuditChainHead.objects.all().delete()
        sealed = audit_chain.seal_existing(AuditEvent, AuditChainHead)
    assert sealed == AuditEvent.objects.count()
    assert list(AuditEvent.objects.order_by("id").values_list("chain_seq", flat=True)) == list(range(1, sealed + 1))
    write(admin_user)
    assert audit_chain.verify().ok


def test_a_missing_chain_head_is_rebuilt_from_the_last_row(admin_user):
    write(admin_user, 2)
    AuditChainHead.objects.all().delete()
    write(admin_user)
    assert audit_chain.verify().ok


# Transactional: flush between tests, concurrent writers ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_audit_log_despite_the_triggers(admin_user):
    write(admin_user, 2)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    assert audit_chain.triggers_present()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain(make_user):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers itself; the row lock is what PostgreSQL needs")
    actor = make_user()
    errors = []

    def writer():
        try:
            for _ in range(10):
                with transaction.atomic():
                    audit.record(actor=actor, event_type="tests.thing.changed", target=actor, after={"x": 1})
                    audit.record_many([{"actor": actor, "event_type": "tests.thing.bulk", "target": actor}] * 3)
        except Exception as error:  # reported below, from the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = audit_chain.verify()
    assert result.ok, result.first_problem
    assert result.rows_checked == AuditEvent.objects.count() >= 6 * 10 * 4
    audit_log_reset()

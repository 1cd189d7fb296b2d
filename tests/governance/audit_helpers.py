"""What a database superuser could do to the audit log, for the tests that must do it too."""

from contextlib import contextmanager

from django.db import connection

from governance import audit_chain
from governance.models import AuditChainHead, AuditEvent


@contextmanager
def audit_triggers_lifted():
    """Switch off the append-only triggers (PostgreSQL: DISABLE TRIGGER; SQLite: drop and recreate)."""
    if connection.vendor == "postgresql":
        # ALTER TABLE refuses while the test transaction holds deferred foreign-key checks.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    else:
        audit_chain.triggers_drop()
        try:
            yield
        finally:
            audit_chain.triggers_create()


def audit_log_reset() -> None:
    """Empty the audit log and its chain head (for fixtures that commit and must clean up after themselves)."""
    with audit_triggers_lifted():
        AuditEvent.objects.all().delete()
        AuditChainHead.objects.all().delete()

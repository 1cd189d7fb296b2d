"""`manage.py flush`, which also empties the append-only audit log on SQLite.

Flush removes every row of every table (the test runner uses it between transactional tests).
On PostgreSQL it issues TRUNCATE, which the row triggers on `audit_events` do not see; on SQLite
it issues DELETE, which they refuse, so the triggers are lifted for the flush and put back after.
"""

from django.core.management.commands import flush
from django.db import connections

from governance import audit_chain


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        if connection.vendor != "sqlite" or "audit_events" not in connection.introspection.table_names():
            return super().handle(**options)
        audit_chain.triggers_drop(connection)
        try:
            return super().handle(**options)
        finally:
            audit_chain.triggers_create(connection)

"""Set-based writes of the batch engine: inserts, updates and audit rows for a chunk at a time.

On PostgreSQL the rows travel through `COPY … FROM STDIN`. Django's `bulk_create` and a parameterised
`UPDATE … FROM (VALUES …)` are correct but spend most of a large sync quoting parameters in Python
(the client-side binding of psycopg quotes every JSON document element by element inside array
literals); COPY streams the same values in psycopg's C row format. Primary keys of new rows are taken
from the table's identity sequence first (one query), so callers get saved instances as with
`bulk_create`. Updates copy the new values into a temporary table and join it in one UPDATE. Audit
rows get their chain positions and hashes from `governance.audit_chain.chain`, as every audit row
does, and are then copied. Other databases keep the ORM's bulk operations.
"""

import datetime
import itertools
import uuid
from decimal import Decimal

from django.db import connection, connections, transaction

from governance import audit, audit_chain
from governance.models import AuditEvent

BATCH_SIZE = 1000
_temp_names = itertools.count(1)

__all__ = ["bulk_update_rows", "insert_rows", "record_audit", "uses_copy"]


def uses_copy() -> bool:
    return connection.vendor == "postgresql"


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _copy(table: str, columns: list, rows) -> None:
    """Stream rows (lists of database values in `columns` order) into `table`; errors become Django's."""
    names = ", ".join(_qn(f.column) for f in columns)
    sql = f"COPY {_qn(table)} ({names}) FROM STDIN"
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


# Values of these exact types reach the database unchanged through `get_db_prep_save` on PostgreSQL,
# so the per-value call (a good part of a large sync's time) is skipped for them; anything else, and
# every JSON value, still goes through the field.
_PLAIN_TYPES = {
    "CharField": (str,), "TextField": (str,), "SlugField": (str,), "EmailField": (str,),
    "IntegerField": (int,), "BigIntegerField": (int,), "SmallIntegerField": (int,),
    "PositiveIntegerField": (int,), "PositiveSmallIntegerField": (int,), "PositiveBigIntegerField": (int,),
    "AutoField": (int,), "BigAutoField": (int,), "SmallAutoField": (int,),
    "BooleanField": (bool,), "DecimalField": (Decimal, int), "DateField": (datetime.date,),
    "DateTimeField": (datetime.datetime,), "UUIDField": (uuid.UUID,),
}  # fmt: skip


def _converter(field, conn):
    target = field.target_field if field.is_relation else field
    plain = _PLAIN_TYPES.get(target.get_internal_type(), ())
    prep = field.get_db_prep_save

    def convert(value):
        if value is None or type(value) in plain:
            return value
        return prep(value, conn)

    return convert


def _rows(objs: list, fields: list, *, add: bool | None) -> list[list]:
    """The database values of `fields` for each object; `add` runs the fields' pre_save (auto_now)."""
    conn = connections[connection.alias]  # the backend itself: the `connection` proxy costs a lookup per use
    converters = [(f, f.attname, _converter(f, conn)) for f in fields]
    if add is None:
        return [[convert(getattr(obj, name)) for _, name, convert in converters] for obj in objs]
    return [[convert(f.pre_save(obj, add)) for f, _, convert in converters] for obj in objs]


def insert_rows(model, objs: list, *, batch_size: int = BATCH_SIZE, with_ids: bool = True) -> None:
    """Insert unsaved instances; afterwards they are saved instances with their primary keys
    (unless `with_ids` is false, for rows nobody reads back)."""
    if not objs:
        return
    meta = model._meta
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = [pk, *fields] if with_ids else fields
    rows = _rows(objs, fields, add=True) if uses_copy() else None
    if rows is None or any(hasattr(value, "as_sql") for row in rows for value in row):
        # SQLite, or a value the database computes (a db_default left unset): the ORM's insert.
        model.objects.bulk_create(objs, batch_size=batch_size)
        return
    if with_ids:
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                           [meta.db_table, pk.column, len(objs)])  # fmt: skip
            for obj, row, (new_id,) in zip(objs, rows, cursor.fetchall(), strict=True):
                obj.pk = new_id
                row.insert(0, new_id)
    _copy(meta.db_table, columns, rows)
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias


def bulk_update_rows(model, objs: list, fields: list[str], *, batch_size: int = BATCH_SIZE) -> None:
    """UPDATE many saved rows, each with its own values of `fields`."""
    if not objs:
        return
    fields = list(dict.fromkeys(fields))
    if not uses_copy():
        model.objects.bulk_update(objs, fields, batch_size=batch_size)
        return
    meta = model._meta
    pk = meta.pk
    columns = [pk, *(meta.get_field(name) for name in fields)]
    table, temp_name = _qn(meta.db_table), f"_bulk_update_{next(_temp_names)}"
    temp = _qn(temp_name)
    names = ", ".join(_qn(f.column) for f in columns)
    assignments = ", ".join(f"{_qn(f.column)} = v.{_qn(f.column)}" for f in columns[1:])
    with connection.cursor() as cursor:
        # A temporary table with the target's column types, so COPY parses each value as the column would.
        cursor.execute(f"CREATE TEMPORARY TABLE {temp} AS SELECT {names} FROM {table} WITH NO DATA")  # noqa: S608 (quoted model metadata)  # nosec B608
        try:
            _copy(temp_name, columns, _rows(objs, columns, add=None))
            cursor.execute(f"UPDATE {table} SET {assignments} FROM {temp} AS v "  # noqa: S608 (quoted model metadata)  # nosec B608
                           f"WHERE {table}.{_qn(pk.column)} = v.{_qn(pk.column)}")  # fmt: skip
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {temp}")


def record_audit(entries: list[dict]) -> None:
    """`audit.record_many` for the batch engine: the same rows in the same chain, copied on PostgreSQL
    as plain column values (no model instance per row)."""
    if not entries:
        return
    if not uses_copy():
        audit.record_many(entries)
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit rows must be written inside the transaction of the change they record")
    json_columns: list[dict] = []
    rows = audit_chain.chain(audit.build_rows(entries), json_columns=json_columns)
    conn = connections[connection.alias]
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    plain = [(f.attname, _converter(f, conn)) for f in fields if f.attname not in audit_chain.JSON_FIELDS]
    documents = [(f.attname, _converter(f, conn)) for f in fields if f.attname in audit_chain.JSON_FIELDS]
    columns = [*(f for f in fields if f.attname not in audit_chain.JSON_FIELDS),
               *(f for f in fields if f.attname in audit_chain.JSON_FIELDS)]  # fmt: skip

    def values(row: dict, stored: dict) -> list:
        out = [convert(row[name]) for name, convert in plain]
        for name, convert in documents:
            # The JSON text the chain hash was computed from, where it is also the text to store.
            text = stored.get(name)
            out.append(text if type(text) is str else convert(row[name]))
        return out

    pairs = zip(rows, json_columns, strict=True)
    _copy(AuditEvent._meta.db_table, columns, (values(row, stored) for row, stored in pairs))

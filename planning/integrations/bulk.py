"""Set-based UPDATE of many rows with per-row values, one statement per chunk.

Django's `bulk_update` builds `CASE WHEN pk = ... THEN ...` per field, which PostgreSQL evaluates
row by row against every branch: fine for tens of rows, quadratic for a thousand. On PostgreSQL
this joins a `VALUES` list instead (linear); other databases keep `bulk_update`.
"""

from django.db import connection

BATCH_SIZE = 1000


def bulk_update_rows(model, objs: list, fields: list[str], *, batch_size: int = BATCH_SIZE) -> None:
    if not objs:
        return
    fields = list(dict.fromkeys(fields))
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields, batch_size=batch_size)
        return
    meta = model._meta
    qn = connection.ops.quote_name
    pk = meta.pk
    columns = [pk, *(meta.get_field(name) for name in fields)]
    casts = [f"%s::{field.db_type(connection)}" for field in columns]
    first_row = "(" + ", ".join(casts) + ")"
    other_rows = "(" + ", ".join(["%s"] * len(columns)) + ")"
    table = qn(meta.db_table)
    assignments = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in columns[1:])
    names = ", ".join(qn(f.column) for f in columns)
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            chunk = objs[start : start + batch_size]
            params = [
                field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in chunk for field in columns
            ]
            values = ", ".join([first_row, *[other_rows] * (len(chunk) - 1)])
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v({names}) "  # noqa: S608 (names are quoted model metadata; values are parameters)
                f"WHERE {table}.{qn(pk.column)} = v.{qn(pk.column)}",
                params,
            )

"""The audit log's tamper evidence (GOV-31, ADR 0015): a SHA-256 hash chain and append-only triggers.

Every audit row gets the next sequence number (`chain_seq`, 1, 2, 3, … without gaps) and
`chain_hash = SHA-256(previous row's hash ‖ canonical JSON of this row's content)`. `append()`
assigns both at insert, inside the caller's transaction, while holding the lock on the one-row
chain head, so concurrent writers append one after the other and never fork the chain.
`verify()` walks the rows in sequence order and reports the first row that was changed,
inserted outside the writer, or deleted.

The database refuses UPDATE and DELETE on `audit_events` through triggers created by migration
(`triggers_create`); `manage.py flush`, which empties every table, lifts them for its own
statements on SQLite (PostgreSQL's flush uses TRUNCATE, which row triggers do not see).
"""

import datetime
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from json.encoder import encode_basestring

from django.db import connection as default_connection
from django.utils import timezone

GENESIS_HASH = "0" * 64
TRIGGER_NAMES = ("audit_events_no_update", "audit_events_no_delete")
# The content a row's hash covers: everything written at insert except the primary key (unknown
# before a bulk insert) and the hash itself. `chain_seq` binds the row to its position.
CHAIN_FIELDS = (
    "chain_seq", "occurred_at", "actor_id", "actor_type", "actor_name", "api_token_id", "api_token_prefix",
    "source", "request_id", "ip_address", "user_agent", "event_type", "target_type", "target_id",
    "target_repr", "related_type", "related_id", "before", "after", "changed_fields", "message", "metadata",
)  # fmt: skip
VERIFY_CHUNK = 2000


# Hashing ---------------------------------------------------------------------------------------


# Values JSON writes as they are: most of a row's content, so they skip the recursive call.
_LEAVES = frozenset({str, int, bool, type(None)})


def _normalise(value):
    """JSON values as they come back from either database: jsonb prints integral floats as integers."""
    kind = type(value)
    if kind is dict:  # the common shapes first, without a call per plain value
        return {k if type(k) is str else str(k): v if type(v) in _LEAVES else _normalise(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _LEAVES else _normalise(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _timestamp(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# One encoder for every row: `json.dumps` with these options would build a new one per call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(content: dict) -> bytes:
    """The bytes a row's hash covers: its `CHAIN_FIELDS`, sorted-key compact JSON, UTF-8."""
    data = {name: content[name] for name in CHAIN_FIELDS}
    data["occurred_at"] = _timestamp(data["occurred_at"])
    return _ENCODER.encode(_normalise(data)).encode()


def link(prev_hash: str, content: dict) -> str:
    """SHA-256 (hex) of the previous row's hash followed by this row's canonical content."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(content)).hexdigest()


# `canonical()` assembled field by field, for writers of many rows: the same bytes (the keys of a row
# are plain ASCII names, so sorted-key JSON of the whole row is its sorted fields' JSON joined), but
# each JSON document is encoded once for both the hash and the stored column.
_SORTED_FIELDS = tuple((name, f'"{name}":') for name in sorted(CHAIN_FIELDS))
JSON_FIELDS = ("before", "after", "changed_fields", "metadata")
_STR_KEYS = frozenset({str})
_NONE = type(None)


def _flat_exact(value) -> bool:
    """Whether `value` is a flat dict or list that encodes the same before and after `_normalise`:
    exact `str` keys (JSON sorts and writes other keys differently) and only string, integer, boolean
    or null values (no float, which `_normalise` may turn into an integer, and no nesting)."""
    kind = type(value)
    if kind is dict:
        if not _STR_KEYS.issuperset(map(type, value)):
            return False
        values = value.values()
    elif kind is list:
        values = value
    else:
        return False
    kinds = frozenset(map(type, values))
    exact = _exact_kinds.get(kinds)
    if exact is None:
        exact = kinds <= _LEAVES or all(k is _NONE or issubclass(k, str | int) for k in kinds)
        if len(_exact_kinds) < 1_000:
            _exact_kinds[kinds] = exact
    return exact


_exact_kinds: dict[frozenset, bool] = {}  # value type sets seen, and whether they encode the same normalised


def _json_piece(value, memo: dict) -> tuple[str, object]:
    """(canonical JSON text of a JSON column value, what to store): the same text when the value
    needs no normalising, else the value itself for the column's own conversion."""
    if value is None:
        return "null", None
    key = id(value)  # rows of one batch share documents such as their metadata; all are alive here
    found = memo.get(key)
    if found is None:
        if _flat_exact(value):
            text = _ENCODER.encode(value)
            found = (text, text)
        else:
            found = (_ENCODER.encode(_normalise(value)), value)
        memo[key] = found
    return found


def _canonical_parts(content: dict, memo: dict, stored: dict | None) -> bytes:
    parts = []
    for name, prefix in _SORTED_FIELDS:
        value = content[name]
        kind = type(value)
        if kind is str:
            text = encode_basestring(value)
        elif kind is int:
            text = int.__repr__(value)
        elif value is None:
            text = "null"
        elif name == "occurred_at":
            # The rows of one append share their timestamp.
            text = memo.get(value)
            if text is None:
                text = memo[value] = encode_basestring(_timestamp(value))
        elif name in JSON_FIELDS:
            text, store = _json_piece(value, memo)
            if stored is not None:
                stored[name] = store
        else:
            text = _ENCODER.encode(_normalise(value))
        parts.append(prefix + text)
    return ("{" + ",".join(parts) + "}").encode()


def _content_of(event) -> dict:
    return {name: getattr(event, name) for name in CHAIN_FIELDS}


# Appending -------------------------------------------------------------------------------------


def _locked_head():
    """The chain head row, locked until the caller's transaction ends (created when missing)."""
    from governance.models import AuditChainHead, AuditEvent

    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # A fresh or flushed database: continue after the last sealed row, if there is one.
        last = AuditEvent.objects.filter(chain_seq__isnull=False).order_by("-chain_seq").first()
        seed = AuditChainHead(pk=1, last_seq=last.chain_seq if last else 0, last_hash=last.chain_hash if last else "")
        AuditChainHead.objects.bulk_create([seed], ignore_conflicts=True)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def chain(rows: list[dict], *, json_columns: list | None = None) -> list[dict]:
    """Give audit rows (dicts holding at least `CHAIN_FIELDS` but `chain_seq`) the next positions of the
    chain: `occurred_at` where it is not a datetime yet, `chain_seq` and `chain_hash`, in list order.

    With `json_columns` (a list), one dict per row is appended to it holding, for each of `JSON_FIELDS`
    with a value, the JSON text the hash covered when it is also the text to store, or else the value.

    Must run inside the transaction that then inserts the rows, before anything else could append:
    the chain head, moved here to the last row, stays locked until that transaction commits or rolls
    back, so the next writer sees this transaction's last hash and a rolled-back one leaves no gap.
    Every writer of audit rows goes through here (`append`, and the batch engine's bulk copy).
    """
    from governance.models import AuditChainHead

    if not rows:
        return rows
    head = _locked_head()
    seq, prev = head.last_seq, head.last_hash or GENESIS_HASH
    now = timezone.now()  # after the lock: occurred_at follows the chain order
    memo: dict = {}
    sha256 = hashlib.sha256
    for row in rows:
        if not isinstance(row["occurred_at"], datetime.datetime):
            row["occurred_at"] = now
        seq += 1
        row["chain_seq"] = seq
        stored = None
        if json_columns is not None:
            stored = {}
            json_columns.append(stored)
        prev = row["chain_hash"] = sha256(prev.encode("ascii") + _canonical_parts(row, memo, stored)).hexdigest()
    AuditChainHead.objects.filter(pk=1).update(last_seq=seq, last_hash=prev)
    return rows


def append(events: list, *, batch_size: int = 1000) -> list:
    """Insert unsaved audit rows (model instances) at the end of the chain; must run inside a transaction."""
    from governance.models import AuditEvent

    if not events:
        return []
    rows = chain([_content_of(event) for event in events])
    for event, row in zip(events, rows, strict=True):
        event.occurred_at, event.chain_seq, event.chain_hash = row["occurred_at"], row["chain_seq"], row["chain_hash"]
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        events = AuditEvent.objects.bulk_create(events, batch_size=batch_size)
    return events


def seal_existing(audit_event_model, head_model) -> int:
    """Chain rows written before the chain existed, in id order (migration 0005); returns how many."""
    seq, prev = 0, GENESIS_HASH
    last = audit_event_model.objects.filter(chain_seq__isnull=False).order_by("-chain_seq").first()
    if last is not None:
        seq, prev = last.chain_seq, last.chain_hash
    sealed, after_id = 0, 0
    while True:
        # Keyset pages, each read in full before it is written (SQLite cursors see their own writes).
        page = list(
            audit_event_model.objects.filter(chain_seq__isnull=True, id__gt=after_id).order_by("id")[:VERIFY_CHUNK]
        )
        if not page:
            break
        for event in page:
            seq += 1
            event.chain_seq = seq
            prev = event.chain_hash = link(prev, _content_of(event))
        audit_event_model.objects.bulk_update(page, ["chain_seq", "chain_hash"])
        sealed, after_id = sealed + len(page), page[-1].id
    head_model.objects.update_or_create(pk=1, defaults={"last_seq": seq, "last_hash": "" if seq == 0 else prev})
    return sealed


# Verifying -------------------------------------------------------------------------------------


@dataclass
class Problem:
    kind: str  # "changed" | "inserted" | "deleted"
    message: str
    row_id: int | None = None
    seq: int | None = None


@dataclass
class Verification:
    ok: bool
    rows_checked: int
    first_seq: int | None
    last_seq: int | None
    head_seq: int
    triggers: bool
    first_problem: Problem | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _rows(start: int) -> Iterator[dict]:
    from governance.models import AuditEvent

    names = ("id", "chain_hash", *CHAIN_FIELDS)
    rows = AuditEvent.objects.filter(chain_seq__gte=start).order_by("chain_seq").values_list(*names)
    for values in rows.iterator(chunk_size=VERIFY_CHUNK):
        yield dict(zip(names, values, strict=True))


def verify(*, from_seq: int = 1) -> Verification:
    """Recompute the chain from `from_seq` (trusting the row before it) and report the first problem."""
    from governance.models import AuditChainHead, AuditEvent

    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.last_seq, head.last_hash) if head else (0, "")
    start = max(from_seq, 1)
    walk = _Walk(expected=start, head_seq=head_seq)
    if start > 1:
        before = AuditEvent.objects.filter(chain_seq=start - 1).values_list("chain_hash", flat=True).first()
        if before is None:
            return walk.result(Problem("deleted", f"seq {start - 1} (before the first checked row) is missing: "
                                       "row deleted", seq=start - 1))  # fmt: skip
        walk.prev = before
    for row in _rows(start):
        problem = walk.step(row)
        if problem is not None:
            return walk.result(problem)
    end = walk.expected - 1
    if end < head_seq:
        missing = f"seq {head_seq}" if walk.expected == head_seq else f"seqs {walk.expected}..{head_seq}"
        text = f"{missing} missing at the end of the log (the chain head is at seq {head_seq}): row deleted"
        return walk.result(Problem("deleted", text, seq=walk.expected))
    if walk.checked and head_hash and walk.prev != head_hash:
        text = f"seq {head_seq}: the last row's hash does not match the chain head: row changed"
        return walk.result(Problem("changed", text, seq=head_seq))
    unsealed = AuditEvent.objects.filter(chain_seq__isnull=True).order_by("id").values_list("id", flat=True).first()
    if unsealed is not None:
        text = f"row id {unsealed} has no chain position: inserted outside the audit writer"
        return walk.result(Problem("inserted", text, row_id=unsealed))
    return walk.result(None)


@dataclass
class _Walk:
    expected: int
    head_seq: int
    prev: str = GENESIS_HASH
    checked: int = 0
    first: int | None = None
    last: int | None = None

    def step(self, row: dict) -> Problem | None:
        seq, row_id = row["chain_seq"], row["id"]
        self.first = seq if self.first is None else self.first
        if seq > self.head_seq:
            text = (f"row id {row_id} seq {seq} lies beyond the chain head (seq {self.head_seq}): "
                    "inserted outside the audit writer")  # fmt: skip
            return Problem("inserted", text, row_id, seq)
        if seq != self.expected:
            missing = f"seq {self.expected}" if seq == self.expected + 1 else f"seqs {self.expected}..{seq - 1}"
            return Problem("deleted", f"{missing} missing before row id {row_id} seq {seq}: row deleted", row_id,
                           self.expected)  # fmt: skip
        if link(self.prev, row) != row["chain_hash"]:
            return Problem(
                "changed", f"row id {row_id} seq {seq} content changed: its hash does not match", row_id, seq
            )
        self.prev, self.expected, self.checked, self.last = row["chain_hash"], seq + 1, self.checked + 1, seq
        return None

    def result(self, problem: Problem | None) -> Verification:
        return Verification(ok=problem is None, rows_checked=self.checked, first_seq=self.first, last_seq=self.last,
                            head_seq=self.head_seq, triggers=triggers_present(), first_problem=problem)  # fmt: skip


# Append-only triggers --------------------------------------------------------------------------

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused (GOV-31)', TG_OP;
END;
$$;
"""


def _trigger_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [_PG_FUNCTION] + [
            f"CREATE TRIGGER {name} BEFORE {op} ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
            for name, op in zip(TRIGGER_NAMES, ("UPDATE", "DELETE"), strict=True)
        ]
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER {name} BEFORE {op} ON audit_events "
            f"BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: {op} refused (GOV-31)'); END"
            for name, op in zip(TRIGGER_NAMES, ("UPDATE", "DELETE"), strict=True)
        ]
    return []  # other databases: the hash chain still detects changes


def triggers_create(connection=None) -> None:
    connection = connection or default_connection
    with connection.cursor() as cursor:
        for sql in _trigger_sql(connection.vendor):
            cursor.execute(sql)


def triggers_drop(connection=None) -> None:
    connection = connection or default_connection
    with connection.cursor() as cursor:
        for name in TRIGGER_NAMES:
            suffix = " ON audit_events" if connection.vendor == "postgresql" else ""
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}{suffix}")
        if connection.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")


def triggers_present(connection=None) -> bool:
    """Whether both append-only triggers exist and are enabled (a table rebuild on SQLite drops them)."""
    connection = connection or default_connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND tgname = ANY(%s) "
                "AND tgenabled <> 'D'",
                [list(TRIGGER_NAMES)],
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events' "
                "AND name IN (%s, %s)",
                list(TRIGGER_NAMES),
            )
        else:
            return False
        return cursor.fetchone()[0] == len(TRIGGER_NAMES)

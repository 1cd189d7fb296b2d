"""The audit log writer (GOV-30…33).

`record()` is called by services inside their transaction, so the audit row commits or rolls
back with the change it describes. Who, from where and on which request come from the request
context; callers pass only what happened. Every row is appended to the hash chain
(`governance.audit_chain`, ADR 0015) as it is inserted.
"""

import re

from django.db import transaction

from genxsop import context
from governance import audit_chain
from governance.choices import ActorType
from governance.models import AuditEvent

_SECRET_KEYS = re.compile(r"password|secret|digest|token|pepper", re.IGNORECASE)
SYSTEM_ACTOR_NAME = "system@genxsop.local"


_entity_types: dict[type, str] = {}


def entity_type_of(obj) -> str:
    """snake_case model name: `DemandPlan` -> `demand_plan` (the API's entity type)."""
    # __class__, not type(): request.user is a SimpleLazyObject, which reports the wrapped class here.
    cls = obj.__class__
    name = _entity_types.get(cls)
    if name is None:
        name = _entity_types[cls] = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
    return name


_secret_keys: dict[str, bool] = {}  # key -> whether its value is redacted; documents reuse a few field names


def _is_secret(key) -> bool:
    secret = _secret_keys.get(key)
    if secret is None:
        secret = bool(_SECRET_KEYS.search(key))
        if len(_secret_keys) < 10_000:
            _secret_keys[key] = secret
    return secret


# Key sets of flat documents (a model's snapshot keys) found free of secret names.
_clean_keysets: set[tuple] = set()


def _flat(data: dict) -> bool:
    kinds = frozenset(map(type, data.values()))
    flat = _flat_kinds.get(kinds)
    if flat is None:
        flat = kinds <= _PLAIN or not any(issubclass(kind, dict | list) for kind in kinds)
        if len(_flat_kinds) < 1_000:
            _flat_kinds[kinds] = flat
    return flat


_flat_kinds: dict[frozenset, bool] = {}  # value type sets seen, and whether none of them nests


def _scrub(data):
    if type(data) is dict and _flat(data):
        # No nested documents: only keys can need redacting, and a model's snapshots repeat the same keys.
        keys = tuple(data)
        if keys in _clean_keysets:
            return dict(data)
        if not any(_is_secret(k) for k in keys):
            if len(_clean_keysets) < 1_000:
                _clean_keysets.add(keys)
            return dict(data)
    if isinstance(data, dict):
        return {k: ("[redacted]" if _is_secret(k) else v if type(v) in _PLAIN else _scrub(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [_scrub(v) for v in data]
    return data


_PLAIN = frozenset({str, int, bool, float, type(None)})  # values _scrub returns as they are


def _actor_fields(actor, ctx) -> dict:
    if actor is None or not getattr(actor, "is_authenticated", False):
        kind = ActorType.SYSTEM if ctx.source in ("job", "cli") else ActorType.ANONYMOUS
        return {"actor": None, "actor_type": kind, "actor_name": SYSTEM_ACTOR_NAME if kind == ActorType.SYSTEM else ""}
    if ctx.api_token_id:
        kind = ActorType.API_TOKEN
    elif actor.is_service_account:
        kind = ActorType.SERVICE_ACCOUNT
    else:
        kind = ActorType.USER
    return {"actor": actor, "actor_type": kind, "actor_name": actor.email}


def record(
    *,
    actor,
    event_type: str,
    target,
    before: dict | None = None,
    after: dict | None = None,
    message: str = "",
    metadata: dict | None = None,
    related=None,
    target_type: str | None = None,
) -> AuditEvent:
    """Write one audit row for a change made by `actor` to `target`; must run inside the change's transaction."""
    _require_transaction()
    event = build(actor=actor, event_type=event_type, target=target, before=before, after=after, message=message,
                  metadata=metadata, related=related, target_type=target_type)  # fmt: skip
    return audit_chain.append([event])[0]


def record_many(entries: list[dict], *, batch_size: int = 1000) -> list[AuditEvent]:
    """`record()` for many changes at once (set-based writers): each entry holds `record`'s keyword
    arguments; the rows are the same and are inserted in bulk, inside the caller's transaction,
    their chain hashes computed in Python in one pass under one lock of the chain head."""
    _require_transaction()
    events = [build(**entry) for entry in entries]
    return audit_chain.append(events, batch_size=batch_size)


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must be called inside the transaction of the change it records")


def build(
    *,
    actor,
    event_type: str,
    target,
    before: dict | None = None,
    after: dict | None = None,
    message: str = "",
    metadata: dict | None = None,
    related=None,
    target_type: str | None = None,
) -> AuditEvent:
    """The unsaved audit row `record()` writes."""
    ctx = context.current()
    return AuditEvent(**_actor_fields(actor, ctx), **_fields(ctx, event_type, target, before, after, message,
                                                            metadata, related, target_type))  # fmt: skip


def build_rows(entries: list[dict]) -> list[dict]:
    """`build()` for many entries (`record`'s keyword arguments) as plain dicts of the model's column
    values (`actor_id`, …; `occurred_at`, `chain_seq` and `chain_hash` still None), for writers that copy
    rows without model instances. The request context and each actor's fields are read once."""
    ctx = context.current()
    actors: dict = {}
    metas: dict = {}  # id(metadata) -> the scrubbed metadata: entries of a batch share one document
    keysets: dict = {}  # changed field lists, one per distinct list
    rows = []
    for entry in entries:
        actor = entry.get("actor")
        person = actors.get(id(actor))  # the entries keep each actor alive, so ids are not reused
        if person is None:
            fields = _actor_fields(actor, ctx)
            person = actors[id(actor)] = {
                "actor_id": actor.pk if fields["actor"] is not None else None,
                "actor_type": fields["actor_type"],
                "actor_name": fields["actor_name"],
            }
        metadata = entry.get("metadata")
        meta = metas.get(id(metadata))
        if meta is None:
            meta = metas[id(metadata)] = _metadata(ctx, metadata)
        row = {"occurred_at": None, **person}
        row.update(_fields(ctx, entry["event_type"], entry["target"], entry.get("before"), entry.get("after"),
                           entry.get("message", ""), metadata, entry.get("related"), entry.get("target_type"),
                           scrubbed_meta=meta))  # fmt: skip
        changed = tuple(row["changed_fields"])
        row["changed_fields"] = keysets.setdefault(changed, row["changed_fields"])
        row["chain_seq"], row["chain_hash"] = None, ""
        rows.append(row)
    return rows


def _metadata(ctx, metadata) -> dict:
    meta = dict(metadata or {})
    if ctx.trace_id:
        meta.setdefault("trace_id", ctx.trace_id)
    return _scrub(meta)


def _fields(ctx, event_type, target, before, after, message, metadata, related, target_type, *,
            scrubbed_meta=None) -> dict:  # fmt: skip
    before = _scrub(before) if before is not None else None
    after = _scrub(after) if after is not None else None
    if before is not None and after is not None:
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    else:
        changed = sorted((after or before or {}).keys())
    return {
        "api_token_id": ctx.api_token_id,
        "api_token_prefix": ctx.api_token_prefix,
        "source": ctx.source,
        "request_id": ctx.request_id if ctx.request_id != "-" else context.new_request_id(),
        "ip_address": ctx.ip_address[:45],
        "user_agent": ctx.user_agent[:255],
        "event_type": event_type,
        "target_type": target_type or entity_type_of(target),
        "target_id": str(target.pk),
        "target_repr": str(target)[:255],
        "related_type": entity_type_of(related) if related is not None else "",
        "related_id": str(related.pk) if related is not None else "",
        "before": before,
        "after": after,
        "changed_fields": changed,
        "message": message,
        "metadata": _metadata(ctx, metadata) if scrubbed_meta is None else scrubbed_meta,
    }

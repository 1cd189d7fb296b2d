"""Approval requests and decisions as in-app notifications (GOV-42, GOV-13, GOV-81).

Subscribers of the plan and consensus events (WF-10, WF-11, WF-20): a submitted plan or a proposed
consensus tells every active approver who can read it (`approval_request`); an approval,
rejection, reopening or return tells whoever submitted or proposed it (`approval_decision`).
The services stay unaware of this: the events arrive after commit carrying ids, and the
decision's actor, comment and prior submitter come from the transition's audit row, so a
rolled-back transition notifies nobody.

Bulk actions (WF-13) commit each row on its own and so publish one event per row. Within one web
request the notifications are therefore collected and merged when the request finishes: a
recipient gets one notification per kind of change ("12 demand plans submitted for approval",
linking to the filtered list), not one per row. Outside a request (jobs, commands) the
`batched()` block does the same; without it each event notifies at once.
"""

import contextlib
import datetime
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.contrib.auth.backends import ModelBackend
from django.core.signals import request_finished, request_started
from django.urls import reverse
from django.utils.http import urlencode

from genxsop import context
from genxsop.scoping import object_in_scope
from governance import bus
from governance.choices import NotificationKind
from governance.models import AuditEvent, User
from governance.services.notifications import notification_create_many

logger = logging.getLogger(__name__)

# How many references a merged notification spells out before "and N more".
GROUP_LISTED = 10

REQUEST = NotificationKind.APPROVAL_REQUEST
DECISION = NotificationKind.APPROVAL_DECISION

# action (past tense, as in the event name) -> (notification kind, wording, plan list status after it)
_ACTIONS = {
    "submitted": (REQUEST, "submitted for approval", "submitted"),
    "proposed": (REQUEST, "proposed for approval", "proposed"),
    "approved": (DECISION, "approved", "approved"),
    "rejected": (DECISION, "rejected", "rejected"),
    "reopened": (DECISION, "reopened", "draft"),
    "returned": (DECISION, "returned", "draft"),
}


def _period(value) -> str:
    return value.strftime("%Y-%m") if isinstance(value, datetime.date) else ""


def _series(sku: str, region: str, channel: str) -> str:
    from forecasting.choices import TOTAL_CHANNEL, TOTAL_REGION

    if (region, channel) == (TOTAL_REGION, TOTAL_CHANNEL):
        return sku
    return f"{sku} ({region}/{channel})"


@dataclass(frozen=True)
class Flow:
    """One workflow whose approvals are announced: how to load, name and link its rows."""

    entity_type: str  # audit target type and notification entity type
    payload_key: str  # the id's name in the event payload
    label: str
    plural: str
    view_perm: str
    approve_perm: str
    submitter_attname: str  # in the audit snapshot: who submitted (or proposed) the version
    load: Callable[[int], object | None]
    reference: Callable[[object], str]
    detail_url: Callable[[object], str]
    group_url: Callable[[str, list[datetime.date]], str]


def _load_demand(pk):
    from planning.models import DemandPlan

    return DemandPlan.objects.select_related("product").filter(pk=pk).first()


def _load_supply(pk):
    from planning.models import SupplyPlan

    return SupplyPlan.objects.select_related("product", "location").filter(pk=pk).first()


def _load_consensus(pk):
    from forecasting.models import ForecastConsensus

    return ForecastConsensus.objects.select_related("product").filter(pk=pk).first()


def _plan_list_url(url_name: str) -> Callable[[str, list[datetime.date]], str]:
    def build(action: str, periods: list[datetime.date]) -> str:
        params = {"status": _ACTIONS[action][2]}
        if periods:
            params.update(period_from=_period(min(periods)), period_to=_period(max(periods)))
        return f"{reverse(url_name)}?{urlencode(params)}"

    return build


def _consensus_url(row) -> str:
    from forecasting.views import workbench_url

    return workbench_url(row.product_id, row.region, row.channel, "forecast", run=row.forecast_run_id,
                         period=_period(row.period))  # fmt: skip


def _consensus_group_url(action: str, periods: list[datetime.date]) -> str:
    # Approvers work through their queue; proposers find their series in the workbench.
    return reverse("governance:my_approvals") if action == "proposed" else reverse("forecasting:workbench")


DEMAND = Flow(
    entity_type="demand_plan",
    payload_key="demand_plan_id",
    label="Demand plan",
    plural="demand plans",
    view_perm="planning.view_demandplan",
    approve_perm="planning.approve_demandplan",
    submitter_attname="submitted_by_id",
    load=_load_demand,
    reference=lambda p: f"{_series(p.product.sku, p.region, p.channel)} · {_period(p.period)} · v{p.version}",
    detail_url=lambda p: reverse("planning:demand_plan_detail", args=[p.pk]),
    group_url=_plan_list_url("planning:demand_plan_list"),
)
SUPPLY = Flow(
    entity_type="supply_plan",
    payload_key="supply_plan_id",
    label="Supply plan",
    plural="supply plans",
    view_perm="planning.view_supplyplan",
    approve_perm="planning.approve_supplyplan",
    submitter_attname="submitted_by_id",
    load=_load_supply,
    reference=lambda p: f"{p.product.sku} @ {p.location.code} · {_period(p.period)} · v{p.version}",
    detail_url=lambda p: reverse("planning:supply_plan_detail", args=[p.pk]),
    group_url=_plan_list_url("planning:supply_plan_list"),
)
CONSENSUS = Flow(
    entity_type="forecast_consensus",
    payload_key="consensus_id",
    label="Consensus forecast",
    plural="consensus forecasts",
    view_perm="forecasting.view_forecastconsensus",
    approve_perm="forecasting.approve_forecastconsensus",
    submitter_attname="proposed_by_id",
    load=_load_consensus,
    reference=lambda c: f"{_series(c.product.sku, c.region, c.channel)} · {_period(c.period)} · v{c.version}",
    detail_url=_consensus_url,
    group_url=_consensus_group_url,
)

# event -> (flow, action); the event names are the audit event types (GOV-41).
EVENTS: dict[str, tuple[Flow, str]] = {
    **{f"planning.{flow.entity_type}.{action}": (flow, action)
       for flow in (DEMAND, SUPPLY) for action in ("submitted", "approved", "rejected", "reopened")},
    **{f"forecasting.consensus.{action}": (CONSENSUS, action) for action in ("proposed", "approved", "returned")},
}  # fmt: skip


@dataclass(frozen=True)
class Subject:
    """What one notification is about: one transition of one row."""

    flow: Flow
    action: str
    entity_id: str
    reference: str
    period: datetime.date | None
    url: str
    actor_name: str
    comment: str = ""

    @property
    def kind(self) -> str:
        return _ACTIONS[self.action][0]

    @property
    def group(self) -> tuple[str, str]:
        return (self.flow.entity_type, self.action)


# Collecting per unit of work ----------------------------------------------------------------------


@dataclass
class _Batch:
    entries: list[tuple[User, Subject]] = field(default_factory=list)
    approvers: dict[str, list[User]] = field(default_factory=dict)  # per approve permission, once per batch
    web: bool = False  # opened by request_started: collects only while that request's context is active


WEB_SOURCES = ("api", "ui", "admin")


_current: ContextVar[_Batch | None] = ContextVar("genxsop_approval_notifications", default=None)


@contextlib.contextmanager
def batched() -> Iterator[None]:
    """Merge the approval notifications of the block per recipient, sent when it ends (even on error:
    what committed inside it stays committed). Nested blocks join the outer one."""
    if _current.get() is not None:
        yield
        return
    batch = _Batch()
    token = _current.set(batch)
    try:
        yield
    finally:
        _current.reset(token)
        _send_safely(batch.entries)


def _on_request_started(sender, **kwargs) -> None:
    leftover = _current.get()
    _current.set(_Batch(web=True))
    if leftover is not None:  # a request on this thread that never finished: deliver, never drop
        _send_safely(leftover.entries)


def _open_batch() -> _Batch | None:
    batch = _current.get()
    # A response never closed (an unread streaming body) leaves its batch behind on the thread; work done
    # outside a request must not wait for the next request to be delivered.
    if batch is not None and batch.web and context.current().source not in WEB_SOURCES:
        return None
    return batch


def _on_request_finished(sender, **kwargs) -> None:
    batch = _current.get()
    if batch is None:
        return
    _current.set(None)
    _send_safely(batch.entries)


# Recipients -----------------------------------------------------------------------------------------


def _holders(perm: str):
    # The role groups hold the permissions (ACC-01), which the model backend answers in one query.
    return ModelBackend().with_perm(perm, is_active=True, include_superusers=True)


def _approvers(flow: Flow, batch: _Batch | None) -> list[User]:
    cache = batch.approvers if batch is not None else {}
    if flow.approve_perm not in cache:
        readers = _holders(flow.view_perm).values("pk")
        cache[flow.approve_perm] = list(
            _holders(flow.approve_perm).filter(pk__in=readers, is_service_account=False).order_by("pk")
        )
    return cache[flow.approve_perm]


def _can_read(user: User, flow: Flow, obj) -> bool:
    return user.is_active and user.has_perm(flow.view_perm) and object_in_scope(user, obj)


def _transition_record(event: str, flow: Flow, pk) -> AuditEvent | None:
    return (
        AuditEvent.objects.filter(event_type=event, target_type=flow.entity_type, target_id=str(pk))
        .select_related("actor")
        .order_by("-id")
        .first()
    )


def on_transition(event: str, payload: dict) -> None:
    """The bus subscriber: who hears about this transition, and what they read."""
    flow, action = EVENTS[event]
    pk = payload.get(flow.payload_key)
    obj = flow.load(pk) if pk is not None else None
    record = _transition_record(event, flow, pk) if obj is not None else None
    if record is None:
        return
    actor = record.actor
    subject = Subject(
        flow=flow,
        action=action,
        entity_id=str(obj.pk),
        reference=flow.reference(obj),
        period=getattr(obj, "period", None),
        url=flow.detail_url(obj),
        actor_name=(actor.full_name or actor.email) if actor is not None else (record.actor_name or "the system"),
        comment=record.message or "",
    )
    batch = _open_batch()
    if subject.kind == REQUEST:
        recipients = [u for u in _approvers(flow, batch) if u.pk != record.actor_id and object_in_scope(u, obj)]
    else:
        submitter_id = (record.before or {}).get(flow.submitter_attname)
        submitter = User.objects.filter(pk=submitter_id).first() if submitter_id else None
        ok = submitter is not None and submitter.pk != record.actor_id and _can_read(submitter, flow, obj)
        recipients = [submitter] if ok else []
    entries = [(user, subject) for user in recipients]
    if batch is not None:
        batch.entries.extend(entries)
    else:
        _send(entries)


# Sending ----------------------------------------------------------------------------------------------


def _send_safely(entries: list[tuple[User, Subject]]) -> None:
    try:
        _send(entries)
    except Exception:  # the change has committed; a failed notice must not turn into an error page
        logger.exception("approval_notifications_failed", extra={"notifications": len(entries)})


def _send(entries: list[tuple[User, Subject]]) -> None:
    """One notification per recipient and kind of change; recipients told the same thing share one insert."""
    users: dict[int, User] = {}
    per_recipient: dict[int, dict[tuple, dict[str, Subject]]] = defaultdict(lambda: defaultdict(dict))
    for user, subject in entries:
        users[user.pk] = user
        per_recipient[user.pk][subject.group][subject.entity_id] = subject  # a row's latest transition wins
    audiences: dict[tuple, list[User]] = defaultdict(list)
    for pk, groups in per_recipient.items():
        for group, subjects in groups.items():
            audiences[(group, tuple(subjects))].append(users[pk])
    for (group, _), recipients in audiences.items():
        subjects = list(per_recipient[recipients[0].pk][group].values())
        notification_create_many(recipients=recipients, kind=subjects[0].kind, **_message(subjects))


def _message(subjects: list[Subject]) -> dict:
    first = subjects[0]
    flow, wording = first.flow, _ACTIONS[first.action][1]
    by = f"{wording[:1].upper()}{wording[1:]} by {_names(s.actor_name for s in subjects)}"
    if len(subjects) == 1:
        body = f"{by}: {first.comment}" if first.comment else f"{by}."
        return {"title": f"{flow.label} {wording}: {first.reference}", "body": body,
                "entity_type": flow.entity_type, "entity_id": first.entity_id, "url": first.url}  # fmt: skip
    listed = "; ".join(s.reference for s in subjects[:GROUP_LISTED])
    more = len(subjects) - GROUP_LISTED
    body = f"{by}: {listed}{f'; and {more} more' if more > 0 else ''}."
    comments = list(dict.fromkeys(s.comment for s in subjects if s.comment))
    if len(comments) == 1:
        body = f"{body} Comment: {comments[0]}"
    periods = [s.period for s in subjects if s.period is not None]
    return {"title": f"{len(subjects)} {flow.plural} {wording}", "body": body, "entity_type": flow.entity_type,
            "entity_id": "", "url": flow.group_url(first.action, periods)}  # fmt: skip


def _names(names) -> str:
    unique = list(dict.fromkeys(names))
    return unique[0] if len(unique) == 1 else f"{', '.join(unique[:-1])} and {unique[-1]}"


def register() -> None:
    for event in EVENTS:
        bus.subscribe(event)(on_transition)
    request_started.connect(_on_request_started, dispatch_uid="governance.approval_notifications_open")
    request_finished.connect(_on_request_finished, dispatch_uid="governance.approval_notifications_send")

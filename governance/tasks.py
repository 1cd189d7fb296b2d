"""django-q2 entry points of the governance app; each calls one service and is idempotent."""

from genxsop.tasks import job
from governance.services import retention


@job
def purge_expired_auth_tokens() -> int:
    """Daily retention sweep of API login tokens (GOV-04, OPS-42); returns the number deleted."""
    return retention.auth_token_purge_expired()


@job
def purge_expired_sessions() -> int:
    """Daily removal of expired console sessions (OPS-42), and of SLI buckets past their 90 days (GOV-18);
    returns the number of sessions deleted."""
    retention.metric_buckets_purge()
    return retention.session_purge_expired()


@job
def notify_overdue_action_items() -> int:
    """Daily reminder to the owners of open action items past due (GOV-13 `action_item_due`); once per item per day."""
    from governance.services.action_items import action_items_notify_overdue

    return action_items_notify_overdue()


@job
def notify_overdue_cycle_steps() -> int:
    """Daily reminder to the owners of S&OP cycle steps past their due date; once per step per day."""
    from governance.services.cycles import cycle_steps_notify_overdue

    return cycle_steps_notify_overdue()

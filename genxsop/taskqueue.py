"""What the job queue holds, whichever django-q2 broker the settings chose (OPS-61, Q_BROKER_URL).

The ORM broker keeps tasks as rows of `django_q_ormq` in the default database until a worker
acknowledges them; the Redis broker keeps them in a Redis list that a cluster pops. Metrics and the
forecast reaper ask here, so neither reads one broker's storage while the other is in use. Both
answers come from django-q2's own view of the settings (`Conf`), the one its workers act on.
"""

import logging

logger = logging.getLogger(__name__)


def broker_name() -> str:
    from django_q.conf import Conf

    return "orm" if Conf.ORM else "redis"


def queue_depth() -> int | None:
    """Tasks in the broker, or None when it cannot be reached.

    ORM: every row, waiting or handed to a worker and not yet acknowledged. Redis: the tasks no
    cluster has taken yet (the Redis broker has no acknowledgement, so taken tasks leave the list).
    """
    if broker_name() == "orm":
        from django_q.models import OrmQ

        return OrmQ.objects.count()
    try:
        from django_q.brokers import get_broker

        return int(get_broker().queue_size())
    except Exception as exc:  # a scrape or probe must answer while Redis is down
        logger.warning("task_broker_unreachable", extra={"broker": "redis", "error": type(exc).__name__})
        return None


def pending_task_names() -> set[str] | None:
    """Names of the tasks still in the broker, or None when it cannot be reached."""
    if broker_name() == "orm":
        from django_q.models import OrmQ

        return {name for name in (q.name() for q in OrmQ.objects.all()) if name}
    from django_q.brokers import get_broker
    from django_q.signing import SignedPackage

    try:
        broker = get_broker()
        payloads = broker.connection.lrange(broker.list_key, 0, -1)
    except Exception as exc:
        logger.warning("task_broker_unreachable", extra={"broker": "redis", "error": type(exc).__name__})
        return None
    names = set()
    for payload in payloads:
        try:
            name = SignedPackage.loads(payload).get("name")
        except Exception:  # signed with another key or not a task: not ours to name  # noqa: S112  # nosec B112
            continue
        if name:
            names.add(name)
    return names

"""Background jobs of the planning app (django-q2, ORM broker): thin callers of the services."""

from genxsop.tasks import job
from planning.services.integrations import integration_batch_purge


@job
def purge_integration_batches() -> int:
    """Daily retention of integration batches (INT-03): keys older than the retention period are
    forgotten with their batch. Returns the number of batches deleted."""
    return integration_batch_purge()

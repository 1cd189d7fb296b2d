"""The forecasting entities that comments and histories attach to, with the selector that reads each."""

from governance import entities


def _consensus(*, user, pk):
    from forecasting.selectors.consensus import consensus_get

    return consensus_get(user=user, pk=pk)


def register() -> None:
    # The entity type is the model's snake_case name, as decision comments record it (audit.entity_type_of).
    entities.register("forecast_consensus", _consensus)

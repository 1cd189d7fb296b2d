"""The planning entities that comments and histories attach to, with the selector that reads each."""

from governance import entities


def _reader(name: str):
    def read(*, user, pk):
        from planning import selectors

        return getattr(selectors, name)(user=user, pk=pk)

    return read


def register() -> None:
    entities.register("demand_plan", _reader("demand_plan_get"))
    entities.register("supply_plan", _reader("supply_plan_get"))
    entities.register("inventory", _reader("inventory_get"))
    entities.register("scenario", _reader("scenario_get"))

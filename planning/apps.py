from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_kpi_definitions(sender, **kwargs):
    # FRM-37: the catalogue must exist after every migrate (a flush in tests empties the table).
    from planning.kpi_catalogue import kpi_definitions_ensure

    kpi_definitions_ensure()


class PlanningConfig(AppConfig):
    name = "planning"
    verbose_name = "Planning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from planning import entities, receivers  # noqa: F401

        entities.register()
        post_migrate.connect(_ensure_kpi_definitions, sender=self, dispatch_uid="planning.kpi_definitions")
        _subscribe_inventory_refresh()


def _subscribe_inventory_refresh() -> None:
    # PLN-06: days of supply follow the demand plans and valuation the product cost.
    from governance import bus
    from planning import events
    from planning.services.inventory import inventory_refresh_on_event

    for event in (events.DEMAND_PLAN_CREATED, events.DEMAND_PLAN_UPDATED, events.DEMAND_PLAN_ACTUAL_RECORDED,
                  events.DEMAND_PLAN_DELETED, events.PRODUCT_UPDATED):  # fmt: skip
        bus.subscribe(event)(inventory_refresh_on_event)

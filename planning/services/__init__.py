"""Planning services: the only write path of the planning app.

Callers import from `planning.services`; the modules below split the app by entity.
"""

from planning.services.catalog import *  # noqa: F403
from planning.services.catalog import __all__ as _catalog_all
from planning.services.demand import *  # noqa: F403
from planning.services.demand import __all__ as _demand_all
from planning.services.integrations import *  # noqa: F403
from planning.services.integrations import __all__ as _integrations_all
from planning.services.inventory import *  # noqa: F403
from planning.services.inventory import __all__ as _inventory_all
from planning.services.supply import *  # noqa: F403
from planning.services.supply import __all__ as _supply_all

__all__ = [*_catalog_all, *_demand_all, *_supply_all, *_inventory_all, *_integrations_all]

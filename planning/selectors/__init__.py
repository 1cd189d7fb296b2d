"""Read paths of the planning app: querysets already scoped to the caller.

Callers import from `planning.selectors`; the modules below split the app by entity.
"""

from planning.selectors.catalog import *  # noqa: F403
from planning.selectors.integrations import *  # noqa: F403
from planning.selectors.inventory import *  # noqa: F403
from planning.selectors.review import *  # noqa: F403
from planning.selectors.scenarios import *  # noqa: F403
from planning.selectors.supply import *  # noqa: F403

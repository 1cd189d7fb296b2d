"""Role shorthands of spec §1.1 (ACC-02) for the matrix tables."""

from governance.choices import Role

ALL = frozenset(Role.values)
NV = ALL - {Role.VIEWER}
ADMIN = frozenset({Role.ADMIN})
DEM_W = frozenset({Role.ADMIN, Role.DEMAND_PLANNER, Role.SUPPLY_PLANNER, Role.SOP_COORDINATOR})
SUP_W = frozenset({Role.ADMIN, Role.SUPPLY_PLANNER, Role.SOP_COORDINATOR})
APPR = frozenset({Role.ADMIN, Role.EXECUTIVE})
INV_W = frozenset({Role.ADMIN, Role.INVENTORY_MANAGER, Role.SUPPLY_PLANNER})
INV_R = frozenset({Role.ADMIN, Role.EXECUTIVE, Role.SUPPLY_PLANNER, Role.INVENTORY_MANAGER, Role.FINANCE_ANALYST,
                   Role.SOP_COORDINATOR})  # fmt: skip
INTEG = frozenset({Role.ADMIN, Role.SOP_COORDINATOR})
FC_W = frozenset({Role.ADMIN, Role.DEMAND_PLANNER, Role.SUPPLY_PLANNER, Role.FINANCE_ANALYST, Role.SOP_COORDINATOR})
OPS = frozenset({Role.ADMIN, Role.EXECUTIVE, Role.SOP_COORDINATOR})
PUBLIC = "public"

__all__ = ["ADMIN", "ALL", "APPR", "DEM_W", "FC_W", "INTEG", "INV_R", "INV_W", "NV", "OPS", "PUBLIC", "SUP_W"]
COORD = frozenset({Role.ADMIN, Role.SOP_COORDINATOR})
EXEC = APPR  # admin, executive
PUB = OPS  # admin, executive, sop_coordinator (EXEC_C)
SCN_R = frozenset({Role.ADMIN, Role.EXECUTIVE, Role.DEMAND_PLANNER, Role.SUPPLY_PLANNER, Role.FINANCE_ANALYST,
                   Role.SOP_COORDINATOR})  # fmt: skip
__all__ += ["COORD", "EXEC", "PUB", "SCN_R"]
# Production scheduling (§1.2/§1.3): read PS_R; status changes PS_EXEC; generate and resequence SUP_W.
PS_R = frozenset({Role.ADMIN, Role.EXECUTIVE, Role.SUPPLY_PLANNER, Role.SOP_COORDINATOR})
PS_EXEC = PS_R
EXEC_C = OPS  # admin, executive, sop_coordinator: KPI refresh, executive scorecard, meeting pack
__all__ += ["EXEC_C", "PS_EXEC", "PS_R"]

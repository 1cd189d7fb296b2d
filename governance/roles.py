"""Roles as Django groups, and the permission matrix of spec §1.2/§1.3.

`ROLE_PERMISSIONS` is the single source of truth: each role's group holds exactly these
permissions (the admin group holds every permission). `sync_role_groups()` is run by a data
migration and again after every `migrate`, so a later migration that adds a model or a workflow
permission only has to extend this table.
"""

from governance.choices import Role

R = Role
NON_VIEWER = [r for r in Role if r != R.VIEWER]

# Catalog read scope (ACC-06): every role except viewer.
_CATALOG_READ = ["planning.view_category", "planning.view_product", "planning.view_location"]

ROLE_PERMISSIONS: dict[str, set[str]] = {role.value: set() for role in Role}
for _role in NON_VIEWER:
    ROLE_PERMISSIONS[_role.value].update(_CATALOG_READ)
    # User directory with reduced fields (ACC-06, API-AUTH-09); managing users stays admin-only.
    ROLE_PERMISSIONS[_role.value].add("governance.view_user")
# Demand plans (§1.2): read for every non-viewer role; DEM_W writes; APPR approves.
_DEMAND_READ = "planning.view_demandplan"
_DEMAND_WRITE = ["planning.add_demandplan", "planning.change_demandplan", "planning.delete_demandplan",
                 "planning.submit_demandplan"]  # fmt: skip
for _role in NON_VIEWER:
    ROLE_PERMISSIONS[_role.value].add(_DEMAND_READ)
for _role in (R.DEMAND_PLANNER, R.SUPPLY_PLANNER, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].update(_DEMAND_WRITE)
ROLE_PERMISSIONS[R.EXECUTIVE.value].add("planning.approve_demandplan")
# Supply plans and gap analysis (§1.2, ACC-06): read for every non-viewer role; SUP_W writes; APPR approves.
_SUPPLY_WRITE = ["planning.add_supplyplan", "planning.change_supplyplan", "planning.delete_supplyplan",
                 "planning.submit_supplyplan"]  # fmt: skip
for _role in NON_VIEWER:
    ROLE_PERMISSIONS[_role.value].add("planning.view_supplyplan")
for _role in (R.SUPPLY_PLANNER, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].update(_SUPPLY_WRITE)
ROLE_PERMISSIONS[R.EXECUTIVE.value].add("planning.approve_supplyplan")
# Inventory (ACC-06: read for all but demand planner and viewer; INV_W writes).
for _role in (R.EXECUTIVE, R.SUPPLY_PLANNER, R.INVENTORY_MANAGER, R.FINANCE_ANALYST, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].update(["planning.view_inventory", "planning.view_inventorysnapshot"])
for _role in (R.SUPPLY_PLANNER, R.INVENTORY_MANAGER):
    ROLE_PERMISSIONS[_role.value].update(
        ["planning.add_inventory", "planning.change_inventory", "planning.override_inventory_policy"]
    )
# Integrations (INTEG = admin, sop_coordinator): ERP sync, batches, outbox.
ROLE_PERMISSIONS[R.SOP_COORDINATOR.value].update([
    "planning.view_integrationbatch", "planning.add_integrationbatch", "planning.view_outboundmessage",
    "planning.add_outboundmessage", "planning.change_outboundmessage",
])  # fmt: skip
# Forecasting (§1.2, ACC-06): read for every non-viewer role; FC_W writes; OPS runs jobs and approves.
from forecasting import permissions as _fc  # noqa: E402

for _role in NON_VIEWER:
    ROLE_PERMISSIONS[_role.value].update(_fc.READ)
for _role in (R.DEMAND_PLANNER, R.SUPPLY_PLANNER, R.FINANCE_ANALYST, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].update(_fc.WRITE)
for _role in (R.EXECUTIVE, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].update(_fc.OPS)
# Audit log search (ACC-06: admin, executive, coordinator).
for _role in (R.EXECUTIVE, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].add("governance.view_auditevent")
# S&OP cycles, decisions, action items (§1.2): read for every non-viewer role; EXEC_C records decisions,
# creates action items and edits any of them (owners edit their own: ACC-04, in the service). Comments:
# every non-viewer role on entities it can read; deleting another's comment stays admin-only.
for _role in NON_VIEWER:
    ROLE_PERMISSIONS[_role.value].update(["governance.view_sopcycle", "governance.view_decision",
                                          "governance.view_actionitem", "governance.add_comment"])  # fmt: skip
for _role in (R.EXECUTIVE, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].update(["governance.add_decision", "governance.change_decision",
                                          "governance.add_actionitem", "governance.change_actionitem"])  # fmt: skip


# S&OP cycle workflow (WF-40): COORD runs it; EXEC completes, skips steps and overrides gates.
ROLE_PERMISSIONS[R.SOP_COORDINATOR.value].update(["governance.add_sopcycle", "governance.change_sopcycle"])
ROLE_PERMISSIONS[R.EXECUTIVE.value].update(["governance.complete_sopcycle", "governance.override_sopcycle_gate",
                                            "governance.skip_sopcycle_step"])  # fmt: skip
# Publish readiness and publications (§1.2, §1.3): NV evaluates and reads; PUB publishes; APPR overrides, rolls back.
for _role in NON_VIEWER:
    ROLE_PERMISSIONS[_role.value].update([
        "governance.view_publication", "governance.view_readinessevaluation", "governance.add_readinessevaluation",
        "governance.view_publishpolicy",
    ])  # fmt: skip
for _role in (R.EXECUTIVE, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].add("governance.add_publication")
ROLE_PERMISSIONS[R.EXECUTIVE.value].update(["governance.override_publication", "governance.rollback_publication"])
# Scenarios (WF-30, ACC-06): read for all but inventory manager and viewer; FC_W writes; APPR decides.
for _role in (R.EXECUTIVE, R.DEMAND_PLANNER, R.SUPPLY_PLANNER, R.FINANCE_ANALYST, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].add("planning.view_scenario")
for _role in (R.DEMAND_PLANNER, R.SUPPLY_PLANNER, R.FINANCE_ANALYST, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].update(["planning.add_scenario", "planning.change_scenario",
                                          "planning.delete_scenario", "planning.run_scenario"])  # fmt: skip
ROLE_PERMISSIONS[R.EXECUTIVE.value].add("planning.approve_scenario")
# Inventory policy exceptions (PLN-09): inventory readers read them; INV_W works them.
for _role in (R.EXECUTIVE, R.SUPPLY_PLANNER, R.INVENTORY_MANAGER, R.FINANCE_ANALYST, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].add("planning.view_inventorypolicyexception")
for _role in (R.SUPPLY_PLANNER, R.INVENTORY_MANAGER):
    ROLE_PERMISSIONS[_role.value].add("planning.change_inventorypolicyexception")
# Inventory optimisation runs and policy recommendations (PLN-08/10): runs are INV_W only (read and write);
# recommendations are read by inventory readers.
for _role in (R.EXECUTIVE, R.SUPPLY_PLANNER, R.INVENTORY_MANAGER, R.FINANCE_ANALYST, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].add("planning.view_inventorypolicyrecommendation")
for _role in (R.SUPPLY_PLANNER, R.INVENTORY_MANAGER):
    ROLE_PERMISSIONS[_role.value].update([
        "planning.view_inventorypolicyrun", "planning.add_inventorypolicyrun",
        "planning.add_inventorypolicyrecommendation", "planning.change_inventorypolicyrecommendation",
    ])  # fmt: skip
# KPIs (ACC-06: every role reads, viewer included); EXEC keeps manual values, targets, definitions; EXEC_C refreshes.
for _role in Role:
    ROLE_PERMISSIONS[_role.value].update(["planning.view_kpimetric", "planning.view_kpidefinition"])
ROLE_PERMISSIONS[R.EXECUTIVE.value].update(["planning.add_kpimetric", "planning.change_kpimetric",
                                            "planning.delete_kpimetric", "planning.change_kpidefinition"])  # fmt: skip
for _role in (R.EXECUTIVE, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].add("planning.refresh_kpimetric")
# Production scheduling (§1.2, §1.3): read admin, exec, sup_pl, coord; sup_pl and coord generate and
# resequence; exec, sup_pl and coord change slot status.
for _role in (R.EXECUTIVE, R.SUPPLY_PLANNER, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].update(["planning.view_productionschedule",
                                          "planning.set_status_productionschedule"])  # fmt: skip
for _role in (R.SUPPLY_PLANNER, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].add("planning.add_productionschedule")
# Executive scorecard and meeting pack (ACC-06: admin, exec, coord).
for _role in (R.EXECUTIVE, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].add("governance.view_executive_scorecard")
# SLO report (API-OPS-04): EXEC_C reads the service-level evidence.
for _role in (R.EXECUTIVE, R.SOP_COORDINATOR):
    ROLE_PERMISSIONS[_role.value].add("governance.view_servicemetricbucket")


def role_group_name(role: str) -> str:
    return role


def sync_role_groups(apps=None) -> None:
    """Create the eight groups and give each its permissions; idempotent.

    Works with historical models inside a migration (`apps` given) and with the live registry.
    Permissions that do not exist yet (their model arrives in a later migration) are skipped
    and picked up by the post-migrate run.
    """
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    registry = apps or global_apps
    group_model = registry.get_model("auth", "Group")
    permission_model = registry.get_model("auth", "Permission")
    if apps is not None:
        for config in apps.get_app_configs():
            config.models_module = True
            create_permissions(config, apps=apps, verbosity=0)
            config.models_module = None
    all_perms = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in permission_model.objects.values_list("pk", "content_type__app_label", "codename")
    }
    for role in Role:
        group, _ = group_model.objects.get_or_create(name=role_group_name(role.value))
        if role == Role.ADMIN:
            # Admins are unrestricted (ACC-09); the *_in_scope codenames are object grants only.
            wanted = {pk for name, pk in all_perms.items() if not name.endswith("_in_scope")}
        else:
            wanted = {all_perms[name] for name in ROLE_PERMISSIONS[role.value] if name in all_perms}
        current = set(group.permissions.values_list("pk", flat=True))
        if current != wanted:
            group.permissions.set(wanted)


def sync_user_group(user) -> None:
    """Make the user's only group the one of their role (ACC-01: one role, never two)."""
    from django.contrib.auth.models import Group

    group, _ = Group.objects.get_or_create(name=role_group_name(user.role))
    user.groups.set([group])
    for cache in ("_perm_cache", "_group_perm_cache", "_user_perm_cache"):
        if hasattr(user, cache):
            delattr(user, cache)

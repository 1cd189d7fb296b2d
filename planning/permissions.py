"""Permission names of the planning app; never spell these as raw strings elsewhere."""

VIEW_CATEGORY = "planning.view_category"
ADD_CATEGORY = "planning.add_category"
CHANGE_CATEGORY = "planning.change_category"
DELETE_CATEGORY = "planning.delete_category"
VIEW_PRODUCT = "planning.view_product"
ADD_PRODUCT = "planning.add_product"
CHANGE_PRODUCT = "planning.change_product"
DISCONTINUE_PRODUCT = "planning.discontinue_product"
DELETE_PRODUCT = "planning.delete_product"
VIEW_LOCATION = "planning.view_location"
ADD_LOCATION = "planning.add_location"
CHANGE_LOCATION = "planning.change_location"
DELETE_LOCATION = "planning.delete_location"
VIEW_DEMAND_PLAN = "planning.view_demandplan"
ADD_DEMAND_PLAN = "planning.add_demandplan"
CHANGE_DEMAND_PLAN = "planning.change_demandplan"
DELETE_DEMAND_PLAN = "planning.delete_demandplan"
SUBMIT_DEMAND_PLAN = "planning.submit_demandplan"  # submit and withdraw
APPROVE_DEMAND_PLAN = "planning.approve_demandplan"  # approve, reject, reopen, unlock
VIEW_SUPPLY_PLAN = "planning.view_supplyplan"
ADD_SUPPLY_PLAN = "planning.add_supplyplan"
CHANGE_SUPPLY_PLAN = "planning.change_supplyplan"
DELETE_SUPPLY_PLAN = "planning.delete_supplyplan"
SUBMIT_SUPPLY_PLAN = "planning.submit_supplyplan"  # submit and withdraw
APPROVE_SUPPLY_PLAN = "planning.approve_supplyplan"  # approve, reject, reopen, unlock
VIEW_INVENTORY = "planning.view_inventory"
ADD_INVENTORY = "planning.add_inventory"
CHANGE_INVENTORY = "planning.change_inventory"
OVERRIDE_INVENTORY_POLICY = "planning.override_inventory_policy"
VIEW_INVENTORY_SNAPSHOT = "planning.view_inventorysnapshot"
ADD_INVENTORY_SNAPSHOT = "planning.add_inventorysnapshot"  # month close by hand (admin)
# Integrations (ERP sync, batches, outbox): INTEG = admin, sop_coordinator.
VIEW_INTEGRATION_BATCH = "planning.view_integrationbatch"
ADD_INTEGRATION_BATCH = "planning.add_integrationbatch"  # run an ERP sync
VIEW_OUTBOUND_MESSAGE = "planning.view_outboundmessage"
ADD_OUTBOUND_MESSAGE = "planning.add_outboundmessage"  # hand a plan to the ERP outbox
CHANGE_OUTBOUND_MESSAGE = "planning.change_outboundmessage"  # acknowledge, retry
# Scenarios (WF-30): read for all but inventory manager and viewer; FC_W writes; APPR decides.
VIEW_SCENARIO = "planning.view_scenario"
ADD_SCENARIO = "planning.add_scenario"
CHANGE_SCENARIO = "planning.change_scenario"
DELETE_SCENARIO = "planning.delete_scenario"
RUN_SCENARIO = "planning.run_scenario"  # run, submit, clone, reopen
APPROVE_SCENARIO = "planning.approve_scenario"  # approve, reject, designate / undesignate the operating plan
# Inventory policy exceptions (PLN-09): inventory readers read; INV_W (and the owner) work them.
VIEW_POLICY_EXCEPTION = "planning.view_inventorypolicyexception"
CHANGE_POLICY_EXCEPTION = "planning.change_inventorypolicyexception"
# Inventory optimisation runs (PLN-08): INV_W runs and lists them (§1.2 "list optimisation runs").
VIEW_POLICY_RUN = "planning.view_inventorypolicyrun"
ADD_POLICY_RUN = "planning.add_inventorypolicyrun"
# Policy recommendations (PLN-10, WF-60): inventory readers read; INV_W generates, approves, decides, auto-applies.
VIEW_POLICY_RECOMMENDATION = "planning.view_inventorypolicyrecommendation"
ADD_POLICY_RECOMMENDATION = "planning.add_inventorypolicyrecommendation"  # generate
CHANGE_POLICY_RECOMMENDATION = "planning.change_inventorypolicyrecommendation"  # approve, decide, auto-apply
# KPIs (PLN-12/13): every role reads; EXEC records manual values, targets and definitions; EXEC_C refreshes.
VIEW_KPI_METRIC = "planning.view_kpimetric"
VIEW_KPI_DEFINITION = "planning.view_kpidefinition"
ADD_KPI_METRIC = "planning.add_kpimetric"
CHANGE_KPI_METRIC = "planning.change_kpimetric"  # edit manual values, set targets
DELETE_KPI_METRIC = "planning.delete_kpimetric"
CHANGE_KPI_DEFINITION = "planning.change_kpidefinition"
REFRESH_KPI = "planning.refresh_kpimetric"
# Production scheduling (PLN-14, WF-70): read admin/exec/sup_pl/coord; generate and resequence SUP_W-ish
# (sup_pl, coord); slot status PS_EXEC (exec, sup_pl, coord).
VIEW_PRODUCTION_SCHEDULE = "planning.view_productionschedule"
ADD_PRODUCTION_SCHEDULE = "planning.add_productionschedule"  # generate, resequence
SET_PRODUCTION_SCHEDULE_STATUS = "planning.set_status_productionschedule"

"""Permission names of the governance app, for `require_perm` and the role table."""

VIEW_AUDIT_EVENT = "governance.view_auditevent"  # search the whole audit log (EXEC_C)
EXPORT_AUDIT_EVENT = "governance.export_auditevent"  # export it as compliance evidence (ADMIN)
VERIFY_AUDIT_EVENT = "governance.verify_auditevent"  # run the hash-chain verification (ADMIN)
# S&OP cycles (WF-40): COORD creates, edits, advances and cancels; EXEC completes, skips and overrides gates.
VIEW_SOP_CYCLE = "governance.view_sopcycle"
ADD_SOP_CYCLE = "governance.add_sopcycle"
CHANGE_SOP_CYCLE = "governance.change_sopcycle"  # edit, step owners and due dates, advance, cancel
COMPLETE_SOP_CYCLE = "governance.complete_sopcycle"
OVERRIDE_SOP_CYCLE_GATE = "governance.override_sopcycle_gate"
SKIP_SOP_CYCLE_STEP = "governance.skip_sopcycle_step"
VIEW_EXECUTIVE_SCORECARD = "governance.view_executive_scorecard"  # EXEC_C: scorecard and meeting pack
VIEW_SERVICE_METRICS = "governance.view_servicemetricbucket"  # EXEC_C: the SLO report (API-OPS-04)
# Publishing (GOV-60…67): NV evaluates (dry run) and reads; PUB publishes a Go; APPR overrides and rolls back.
VIEW_PUBLICATION = "governance.view_publication"
ADD_PUBLICATION = "governance.add_publication"
OVERRIDE_PUBLICATION = "governance.override_publication"
ROLLBACK_PUBLICATION = "governance.rollback_publication"
VIEW_READINESS_EVALUATION = "governance.view_readinessevaluation"
ADD_READINESS_EVALUATION = "governance.add_readinessevaluation"
VIEW_PUBLISH_POLICY = "governance.view_publishpolicy"
CHANGE_PUBLISH_POLICY = "governance.change_publishpolicy"  # ADMIN

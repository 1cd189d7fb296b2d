"""Permission names of the governance app, for `require_perm` and the role table."""

VIEW_AUDIT_EVENT = "governance.view_auditevent"  # search the whole audit log (EXEC_C)
EXPORT_AUDIT_EVENT = "governance.export_auditevent"  # export it as compliance evidence (ADMIN)
VERIFY_AUDIT_EVENT = "governance.verify_auditevent"  # run the hash-chain verification (ADMIN)

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    from governance.roles import sync_role_groups

    sync_role_groups()


def _ensure_publish_policies(sender, **kwargs):
    from governance.services.publish_policies import publish_policies_ensure

    publish_policies_ensure()


def _publication_reader(*, user, pk):
    # Imported on use: the publishing service imports the planning services, which need the apps ready.
    from governance.services.publishing import publication_get

    return publication_get(user=user, pk=pk)


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance and access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Runs once after every `migrate` (dispatch_uid), after all apps' permissions exist.
        post_migrate.connect(_sync_roles, dispatch_uid="governance.sync_role_groups")
        # The two lanes must always exist (GOV-14); a flush (tests, `manage.py flush`) empties the table.
        post_migrate.connect(_ensure_publish_policies, sender=self, dispatch_uid="governance.publish_policies")
        from governance.schedules import ensure_schedules_after_migrate

        # sender=self: once per migrate run, not once per app (OPS-40).
        post_migrate.connect(ensure_schedules_after_migrate, sender=self, dispatch_uid="governance.ensure_schedules")
        from governance import (
            entities,
            receivers,  # noqa: F401
            selectors,
        )

        # Comments and entity histories attach to cycles, decisions and action items (GOV-80).
        entities.register("sop_cycle", selectors.sop_cycle_get)
        entities.register("decision", selectors.decision_get)
        entities.register("action_item", selectors.action_item_get)
        # Publications too (GOV-80); their reader 404s for roles that cannot read publications.
        entities.register("publication", _publication_reader)
        from governance import notify_approvals

        # GOV-42: approval requests and decisions of plans and consensus (WF-10, WF-11, WF-20).
        notify_approvals.register()

from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    name = "forecasting"
    verbose_name = "Forecasting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from forecasting import entities, receivers_accuracy

        entities.register()

        receivers_accuracy.register()

        from django_q.signals import post_spawn

        post_spawn.connect(_reap_when_a_worker_starts, dispatch_uid="forecasting.reap_when_a_worker_starts")


def _reap_when_a_worker_starts(sender=None, **kwargs) -> None:
    """A (re)started worker takes over jobs lost with its predecessor at once (FC-74)."""
    from forecasting.tasks import reap_when_a_worker_starts

    reap_when_a_worker_starts(sender=sender, **kwargs)

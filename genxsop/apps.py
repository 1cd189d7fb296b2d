from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "genxsop"
    label = "genxsop"
    verbose_name = "GenXSOP platform"

    def ready(self) -> None:
        from genxsop import (
            checks,  # noqa: F401  (registers system checks)
            readcache,  # noqa: F401  (subscribes the dashboard cache to the event bus)
        )

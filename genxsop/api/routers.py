"""The API's router: every route answers with and without a trailing slash, without redirects (API-02)."""

from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # SimpleRouter's constructor only knows "/" or "", but the attribute is pasted into the
        # regex of every route, so "/?" makes the slash optional.
        self.trailing_slash = "/?"

"""Console pages of the S&OP cycle (UI-11)."""

urlpatterns: list = []

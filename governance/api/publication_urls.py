"""Publication API routes (API-GOV-12…16, 19)."""

urlpatterns: list = []

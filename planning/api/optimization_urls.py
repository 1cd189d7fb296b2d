"""Inventory optimisation runs, policy recommendations and the control-tower summary (API-INV-05…07, 10…14, 16)."""

urlpatterns: list = []

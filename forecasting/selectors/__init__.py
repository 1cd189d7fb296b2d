"""Forecasting reads, scoped to the user (ScopedQuerySet.for_user)."""

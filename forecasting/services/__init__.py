"""Forecasting services: the only write path of the forecasting app.

Callers import from `forecasting.services`; the modules below split the app by entity.
"""

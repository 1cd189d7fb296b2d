"""Forecasting entities (runs, results, consensus, jobs) arrive with the forecasting work."""

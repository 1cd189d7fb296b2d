"""Inbound ERP/WMS synchronisation and file imports: one batch engine (INT-01…08, INT-20).

`batch.run_batch` is the entry point of every sync call and file import: envelope, idempotency,
per-item validation and outcome reporting. `appliers` holds the dataset rules; `values` coerces
typed JSON and raw spreadsheet strings alike; `bulk` updates many rows in one statement.
"""

"""GenXSOP: Sales & Operations Planning platform (project package)."""

__version__ = "0.1.0"

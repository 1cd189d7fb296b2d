"""Read paths for integrations: querysets already scoped to the caller."""

__all__: list[str] = []

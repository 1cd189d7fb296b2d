"""Read paths for inventory: querysets already scoped to the caller."""

__all__: list[str] = []

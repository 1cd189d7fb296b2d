"""Read paths for supply: querysets already scoped to the caller."""

__all__: list[str] = []

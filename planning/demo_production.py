"""Demo data of the production area (spec §10)."""


def load_into(report, *, actor) -> None:
    """Add this area's demo rows; idempotent (a second load adds nothing)."""


def reset_into(report, *, actor) -> None:
    """Remove what load_into wrote, before the plans and products it refers to go."""

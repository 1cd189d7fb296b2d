"""Role-matrix rows of publications (see tests/platform/matrix/__init__.py)."""

from tests.platform.matrix.roles import APPR, NV, PUB

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/governance/publications", NV, None),
    ("POST", "/governance/publications", PUB, {}),  # no lane: 400 for every allowed role
    ("GET", "/governance/publications/{id}", NV, None),
    ("GET", "/governance/publications/{id}/diff", NV, None),
    ("POST", "/governance/publications/{id}/rollback", APPR, {}),  # no reason: 400 for every allowed role
    ("GET", "/governance/publications/{id}/export", NV, None),
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    """One current publication with one item. Written directly: the matrix checks who may call, and
    the publish gate has its own tests (tests/governance/test_publishing_*)."""
    from datetime import date

    from django.utils import timezone

    from governance.models import Publication, PublicationItem, ReadinessEvaluation

    evaluation = ReadinessEvaluation.objects.create(
        lane="weekly", period_from=date(2026, 3, 1), period_to=date(2026, 3, 1), outcome="go", score=4,
        required_score=4, plan_fingerprint="0" * 64, dry_run=False, evaluated_by=admin,
    )  # fmt: skip
    publication = Publication.objects.create(
        version_stamp="W-202603-v1", lane="weekly", period_from=date(2026, 3, 1), period_to=date(2026, 3, 1),
        evaluation=evaluation, outcome="go", published_by=admin, published_at=timezone.now(), item_count=1,
        snapshot_sha256="0" * 64,
    )  # fmt: skip
    PublicationItem.objects.create(
        publication=publication, plan_type="demand", plan_id=1, plan_version=1, product=product,
        period=date(2026, 3, 1), values={"forecast_qty": "1.00"},
    )  # fmt: skip
    return {"/governance/publications/": publication.pk}, {}

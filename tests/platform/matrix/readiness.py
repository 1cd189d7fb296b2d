"""Role-matrix rows of readiness and publish policies (API-GOV-10, 11, 17, 18; see
tests/platform/matrix/__init__.py)."""

from tests.platform.matrix.roles import ADMIN, NV

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("POST", "/governance/publish/readiness", NV, {"lane": "weekly"}),
    ("GET", "/governance/publish/readiness/{evaluation_id}", NV, None),
    ("GET", "/governance/publish-policies", NV, None),
    ("PUT", "/governance/publish-policies/{lane}", ADMIN, {"required_score": 4}),
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    from governance.services.readiness import readiness_evaluate

    evaluation = readiness_evaluate(actor=admin, lane="weekly")
    return {"{evaluation_id}": evaluation.evaluation_id, "{lane}": "weekly"}, {}

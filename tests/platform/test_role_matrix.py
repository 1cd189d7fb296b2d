"""The role-by-endpoint matrix (ACC-03, ACC-06, ACC-11): one table, every API endpoint, every role.

`ENDPOINTS` lists every operation of the API with the roles allowed to call it. The first test
compares it with the OpenAPI schema, so a new endpoint fails the suite until it is added here.
Then every (endpoint, role) pair is called through a console session: anonymous callers get 401,
roles outside the row get 403 and allowed roles get past the permission layer (2xx, or a 4xx
about the body or state, never 401/403/404/405). Object-scope cases follow (list, detail, write).
"""

from datetime import date
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from governance.choices import Role
from governance.services import api_token_create, user_create
from governance.services.scopes import user_scopes_set
from planning import services as catalog
from tests.platform.matrix import AREAS
from tests.platform.matrix.roles import ADMIN, ALL, APPR, DEM_W, NV, PUBLIC

API = "/api/v1"

# (method, path, allowed roles or PUBLIC, request body)
ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/", PUBLIC, None),
    # Auth: public entry points (their own tests cover credentials)
    ("POST", "/auth/login", PUBLIC, {}),
    ("POST", "/auth/refresh", PUBLIC, {}),
    ("POST", "/auth/register", PUBLIC, {}),
    ("GET", "/auth/providers", PUBLIC, None),
    # Auth: the caller's own account and tokens
    ("GET", "/auth/me", ALL, None),
    ("POST", "/auth/logout", ALL, {}),
    ("POST", "/auth/change-password", ALL, {}),
    ("GET", "/auth/tokens", ALL, None),
    ("POST", "/auth/tokens", ALL, {}),
    ("DELETE", "/auth/tokens/{id}", ADMIN, None),  # another user's token: 404 for non-admins
    # Users, roles, scopes, SSO mappings
    ("GET", "/auth/users", NV, None),
    ("POST", "/auth/users", ADMIN, {}),
    ("GET", "/auth/users/{id}", ADMIN, None),
    ("PATCH", "/auth/users/{id}", ADMIN, {}),
    ("POST", "/auth/users/{id}/deactivate", ADMIN, {}),
    ("POST", "/auth/users/{id}/reactivate", ADMIN, None),
    ("POST", "/auth/users/{id}/unlock", ADMIN, None),
    ("POST", "/auth/users/{id}/invite", ADMIN, None),
    ("POST", "/auth/users/{id}/reset-password", ADMIN, {}),
    ("GET", "/auth/users/{id}/scopes", ADMIN, None),  # also the user themself (tests/governance)
    ("PUT", "/auth/users/{id}/scopes", ADMIN, {}),
    ("GET", "/auth/sso/role-mappings", ADMIN, None),
    ("PUT", "/auth/sso/role-mappings", ADMIN, {}),
    # Catalog
    ("GET", "/products", NV, None),
    ("POST", "/products", ADMIN, {}),
    ("GET", "/products/{id}", NV, None),
    ("PUT", "/products/{id}", ADMIN, {}),
    ("PATCH", "/products/{id}", ADMIN, {}),
    ("DELETE", "/products/{id}", ADMIN, None),
    ("POST", "/products/{id}/activate", ADMIN, {}),
    ("POST", "/products/{id}/discontinue", ADMIN, {}),
    ("GET", "/products/categories", NV, None),
    ("POST", "/products/categories", ADMIN, {}),
    ("GET", "/products/categories/{id}", NV, None),
    ("PUT", "/products/categories/{id}", ADMIN, {}),
    ("PATCH", "/products/categories/{id}", ADMIN, {}),
    ("DELETE", "/products/categories/{id}", ADMIN, None),
    ("GET", "/locations", NV, None),
    ("POST", "/locations", ADMIN, {}),
    ("GET", "/locations/{id}", NV, None),
    ("PUT", "/locations/{id}", ADMIN, {}),
    ("PATCH", "/locations/{id}", ADMIN, {}),
    ("DELETE", "/locations/{id}", ADMIN, None),
    # Demand plans
    # Comments: readable by whoever can read the entity (a viewer's plan lookup is 404, tests/governance)
    ("GET", "/comments", ALL, None),
    ("GET", "/demand/plans", NV, None),
    ("POST", "/demand/plans", DEM_W, {}),
    ("GET", "/demand/plans/{id}", NV, None),
    ("PUT", "/demand/plans/{id}", DEM_W, {}),
    ("PATCH", "/demand/plans/{id}", DEM_W, {}),
    ("DELETE", "/demand/plans/{id}", DEM_W, None),  # a submitted plan: 409 for every allowed role
    ("GET", "/demand/plans/{id}/versions", NV, None),
    ("POST", "/demand/plans/{id}/adjust", DEM_W, {}),
    ("POST", "/demand/plans/{id}/actual", DEM_W, {}),
    ("POST", "/demand/plans/{id}/submit", DEM_W, {}),
    ("POST", "/demand/plans/{id}/withdraw", DEM_W, {}),
    ("POST", "/demand/plans/{id}/approve", APPR, {}),
    ("POST", "/demand/plans/{id}/reject", APPR, {}),
    ("POST", "/demand/plans/{id}/reopen", APPR, {}),
    ("POST", "/demand/plans/{id}/unlock", APPR, {}),  # no justification: 400 for every allowed role
]

for _area in AREAS:
    ENDPOINTS += _area.ENDPOINTS

# Refusals that are not 403 by design: another user's token is simply not found for its non-owners.
DENIED_STATUS = {("DELETE", "/auth/tokens/{id}"): 404}
for _area in AREAS:  # e.g. a forecast job is found only by its requester and OPS
    DENIED_STATUS.update(getattr(_area, "DENIED_STATUS", {}))


def _schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    ops = set()
    for path, item in schema["paths"].items():
        short = path.removeprefix(API).rstrip("/") or "/"
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                ops.add((method.upper(), short))
    return ops


def test_the_table_lists_every_api_endpoint_and_nothing_else():
    table = [(method, path) for method, path, _, _ in ENDPOINTS]
    assert len(table) == len(set(table)), "an endpoint is listed twice"
    schema = _schema_operations()
    assert sorted(schema - set(table)) == [], "endpoints missing from ENDPOINTS: add them with their roles"
    assert sorted(set(table) - schema) == [], "ENDPOINTS lists operations the API no longer has"


# Calling every endpoint as every role ---------------------------------------------------------


@pytest.fixture
def world(db):
    admin = user_create(actor=None, email="matrix-admin@example.test", full_name="Matrix Admin", role=Role.ADMIN)
    callers = {role: user_create(actor=admin, email=f"{role}@matrix.test", full_name=f"M {role}", role=role)
               for role in Role if role != Role.ADMIN}  # fmt: skip
    callers[Role.ADMIN] = admin
    target = user_create(actor=admin, email="target@matrix.test", full_name="Target", role=Role.DEMAND_PLANNER)
    token, _ = api_token_create(actor=target, user=target, name="matrix", scopes=["planning:read"])
    parent = catalog.category_create(actor=admin, name="Matrix")
    category = catalog.category_create(actor=admin, name="Leaf", parent=parent)
    product = catalog.product_create(actor=admin, data={"sku": "MX-1", "name": "Matrix product", "category": category})
    location = catalog.location_create(actor=admin, data={"code": "MX", "name": "Matrix plant"})
    plan = catalog.demand_plan_create(actor=admin, product=product, data={"period": date(2026, 3, 1),
                                                                          "forecast_qty": 10})  # fmt: skip
    submitted = catalog.demand_plan_create(actor=admin, product=product, data={
        "period": date(2026, 4, 1), "forecast_qty": 10})  # fmt: skip
    catalog.demand_plan_submit(actor=admin, plan=submitted)
    ids = {
        "/auth/tokens/": token.pk, "/auth/users/": target.pk, "/products/categories/": category.pk,
        "/products/": product.pk, "/locations/": location.pk, "/demand/plans/": plan.pk,
    }  # fmt: skip
    # Operations that would remove their target for the next allowed caller get one that refuses (409).
    op_ids = {("DELETE", "/demand/plans/{id}"): submitted.pk}
    for area in AREAS:
        area_ids, area_op_ids = area.setup(admin=admin, product=product, location=location, category=category)
        ids.update(area_ids)
        op_ids.update(area_op_ids)
    return SimpleNamespace(callers=callers, ids=ids, op_ids=op_ids)


def _url(world, path: str, method: str = "GET") -> str:
    if "{id}" in path:
        prefix = path.split("{id}")[0]
        path = path.replace("{id}", str(world.op_ids.get((method, path), world.ids[prefix])))
    for name, value in world.ids.items():  # other path parameters, keyed "{name}"
        if name.startswith("{"):
            path = path.replace(name, str(value))
    return API + path


def _call(client, method: str, url: str, body):
    kwargs = {"format": "json"} if body is not None else {}
    return (
        getattr(client, method.lower())(url, body, **kwargs)
        if body is not None
        else getattr(client, method.lower())(url)
    )


def _verdict(response, method: str, path: str, allowed, role) -> str | None:
    """What is wrong with this response for this caller, or None."""
    status = response.status_code
    if status >= 500:
        return f"{status}"
    if allowed == PUBLIC:
        return None if status != 403 or path == "/auth/register" else f"{status} on a public endpoint"
    if role is None:
        if status != 401 or response.json()["error"]["code"] != "AUTHENTICATION_REQUIRED":
            return f"{status}, expected 401 AUTHENTICATION_REQUIRED"
        return None
    if role in allowed:
        return f"{status}, expected to get past the permission layer" if status in (401, 403, 404, 405) else None
    expected = DENIED_STATUS.get((method, path), 403)
    if status != expected or (expected == 403 and response.json()["error"]["code"] != "PERMISSION_DENIED"):
        return f"{status}, expected {expected}"
    return None


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "allowed", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_role_matrix(world, method, path, allowed, body):
    # Anonymous and refused callers first: a refusal changes nothing, so one world serves every
    # caller; the allowed roles (whose calls may write) come last, the admin very last.
    callers = [None, *sorted(Role.values, key=lambda r: (allowed != PUBLIC and r in allowed, r == Role.ADMIN))]
    failures = []
    for role in callers:
        client = APIClient()
        if role is not None:
            client.force_login(world.callers[role])
        response = _call(client, method, _url(world, path, method), body)
        problem = _verdict(response, method, path, allowed, role)
        if problem:
            failures.append(f"{role or 'anonymous'}: {problem}: {response.content[:200]!r}")
    assert failures == []


# Object scopes on list, detail and write (ACC-10…12) --------------------------------------


@pytest.fixture
def scoped(db):
    admin = user_create(actor=None, email="scope-admin@example.test", full_name="Scope Admin", role=Role.ADMIN)
    audio = catalog.category_create(actor=admin, name="Audio")
    garden = catalog.category_create(actor=admin, name="Garden")
    inside = catalog.product_create(actor=admin, data={"sku": "IN-1", "name": "Inside", "category": audio})
    outside = catalog.product_create(actor=admin, data={"sku": "OUT-1", "name": "Outside", "category": garden})
    here = catalog.location_create(actor=admin, data={"code": "HERE", "name": "Here"})
    there = catalog.location_create(actor=admin, data={"code": "THERE", "name": "There"})

    def user(access: str):
        # A scoped user holding the catalog write permissions directly: only admins write the
        # catalog by role, and admins are never scoped, yet the write scope must hold for any writer.
        u = user_create(actor=admin, email=f"{access}@scope.test", full_name=access, role=Role.SUPPLY_PLANNER)
        u.user_permissions.add(*Permission.objects.filter(codename__in=["change_product", "change_location"]))
        user_scopes_set(actor=admin, user=u, scopes=[{"type": "category", "id": audio.pk, "access": access},
                                                    {"type": "location", "id": here.pk, "access": access}])  # fmt: skip
        client = APIClient()
        client.force_login(u)
        return client

    return SimpleNamespace(user=user, inside=inside, outside=outside, here=here, there=there)


SCOPE_CASES = [
    # (access, method, resource, in scope?, expected status)
    ("view", "GET", "product", True, 200),
    ("view", "GET", "product", False, 404),
    ("view", "PATCH", "product", True, 403),
    ("view", "PATCH", "product", False, 404),
    ("change", "PATCH", "product", True, 200),
    ("change", "PATCH", "product", False, 404),
    ("view", "GET", "location", True, 200),
    ("view", "GET", "location", False, 404),
    ("view", "PATCH", "location", True, 403),
    ("change", "PATCH", "location", True, 200),
    ("change", "PATCH", "location", False, 404),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("access", "method", "resource", "in_scope", "expected"), SCOPE_CASES)
def test_object_scope_matrix(scoped, access, method, resource, in_scope, expected):
    client = scoped.user(access)
    if resource == "product":
        obj = scoped.inside if in_scope else scoped.outside
        url = f"{API}/products/{obj.pk}"
    else:
        obj = scoped.here if in_scope else scoped.there
        url = f"{API}/locations/{obj.pk}"
    response = client.get(url) if method == "GET" else client.patch(url, {"name": "Renamed"}, format="json")
    assert response.status_code == expected, response.content


@pytest.mark.django_db
@pytest.mark.parametrize("access", ["view", "change"])
def test_object_scope_lists_show_only_in_scope_rows(scoped, access):
    client = scoped.user(access)
    assert [p["sku"] for p in client.get(f"{API}/products").json()["items"]] == ["IN-1"]
    assert [loc["code"] for loc in client.get(f"{API}/locations").json()["items"]] == ["HERE"]
    assert [c["name"] for c in client.get(f"{API}/products/categories").json()] == ["Audio"]

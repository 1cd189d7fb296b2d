"""OIDC single sign-on (ACC-27…32, API-AUTH-22/23, OIDC bearer tokens) with ID tokens signed in the test.

The provider is simulated: an RSA key made here signs the tokens, its JWKS replaces the HTTP
fetch, and the token and userinfo calls of the backend return what each test sets up. Everything
else — the callback view, the strict backend, the sso services, audit rows — is the real code.
"""

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.messages import get_messages
from rest_framework.test import APIClient

from governance import events, oidc
from governance.choices import AuthSource, Role
from governance.models import AuditEvent, SsoIdentity, SsoRoleMapping, User
from governance.oidc import StrictOIDCBackend
from governance.services import user_create

ISSUER = "https://idp.example.test"
CLIENT_ID = "sop-console"
KID = "test-key-1"
STATE = "state-123"
NONCE = "nonce-456"

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwks() -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_KEY.public_key()))
    return {"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]}


def sign(claims: dict, *, key=_KEY, kid: str = KID) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def id_claims(sub: str = "user-1", **extra) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "aud": CLIENT_ID, "sub": sub, "iat": now, "exp": now + 300, "nonce": NONCE, **extra}


@pytest.fixture(autouse=True)
def oidc_settings(settings, monkeypatch):
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = "sop-secret"
    settings.OIDC_OP_ISSUER = ISSUER
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{ISSUER}/auth"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{ISSUER}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{ISSUER}/me"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{ISSUER}/jwks"
    settings.OIDC_OP_LOGOUT_ENDPOINT = f"{ISSUER}/session/end"
    settings.OIDC_ROLE_MAPPING = {"planners": Role.DEMAND_PLANNER, "sop-admins": Role.ADMIN, "execs": Role.EXECUTIVE}
    settings.OIDC_ALLOWED_EMAIL_DOMAINS = []
    settings.OIDC_REQUIRED_ACR = []
    settings.OIDC_REQUIRED_AMR = []
    monkeypatch.setattr(oidc, "fetch_jwks", lambda uri: _jwks())
    oidc.clear_jwks_cache()
    yield settings
    oidc.clear_jwks_cache()


def sso_callback(client, monkeypatch, *, token_claims: dict, userinfo: dict | None = None, id_token: str = ""):
    """Run /oidc/callback/ as the provider would redirect back, with the given ID token and userinfo."""
    session = client.session
    session["oidc_states"] = {STATE: {"nonce": NONCE, "code_verifier": "v" * 64, "added_on": time.time()}}
    session.save()
    id_token = id_token or sign(token_claims)
    info = {"sub": token_claims.get("sub"), **(userinfo or {})}
    monkeypatch.setattr(StrictOIDCBackend, "get_token", lambda self, payload: {"id_token": id_token,
                                                                              "access_token": "opaque-at"})  # fmt: skip
    monkeypatch.setattr(StrictOIDCBackend, "get_userinfo", lambda self, at, it, payload: dict(info))
    return client.get("/oidc/callback/", {"code": "code-1", "state": STATE})


def planner_info(**extra) -> dict:
    return {"email": "pat@example.test", "email_verified": True, "name": "Pat Planner", "groups": ["planners"],
            **extra}  # fmt: skip


def signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def events_of(event_type: str):
    return AuditEvent.objects.filter(event_type=event_type)


# --- the happy path: JIT provisioning with a mapped role -------------------------------------------


@pytest.mark.django_db
def test_first_login_provisions_a_user_with_the_mapped_role_and_audits_it(client, monkeypatch):
    # When a new person signs in through the provider with the "planners" group
    response = sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info())

    # Then they are signed in as a new SSO user with the mapped role and an unusable password
    assert response.status_code == 302
    assert response["Location"] == "/"
    user = signed_in_user(client)
    assert user.email == "pat@example.test"
    assert user.full_name == "Pat Planner"
    assert user.role == Role.DEMAND_PLANNER
    assert user.auth_source == AuthSource.SSO
    assert user.role_managed_by == AuthSource.SSO
    assert not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == [Role.DEMAND_PLANNER]
    identity = SsoIdentity.objects.get(user=user)
    assert (identity.issuer, identity.subject) == (ISSUER, "user-1")
    assert identity.last_claims == {"name": "Pat Planner", "email": "pat@example.test", "email_verified": True,
                                    "groups": ["planners"]}  # fmt: skip
    assert client.session["_auth_user_backend"] == "governance.oidc.StrictOIDCBackend"

    # And the provisioning and the login are audited with issuer, subject and role, never a token
    provisioned = events_of(events.SSO_PROVISIONED).get()
    assert provisioned.metadata["issuer"] == ISSUER
    assert provisioned.metadata["subject"] == "user-1"
    assert provisioned.metadata["role"] == Role.DEMAND_PLANNER
    assert events_of(events.SSO_LOGIN).get().target_id == str(user.pk)
    assert events_of(events.SSO_ROLE_MAPPINGS_SEEDED).count() == 1
    dumped = json.dumps(list(AuditEvent.objects.values("before", "after", "metadata", "message")))
    assert "eyJ" not in dumped
    assert "opaque-at" not in dumped


@pytest.mark.django_db
def test_highest_precedence_role_wins_when_several_groups_map(client, monkeypatch):
    sso_callback(client, monkeypatch, token_claims=id_claims(),
                 userinfo=planner_info(groups=["planners", "execs", "unknown"]))  # fmt: skip
    assert signed_in_user(client).role == Role.EXECUTIVE


@pytest.mark.django_db
def test_unmapped_user_gets_the_default_role(client, monkeypatch, settings):
    settings.OIDC_DEFAULT_ROLE = Role.FINANCE_ANALYST
    sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info(groups="contractors"))
    assert signed_in_user(client).role == Role.FINANCE_ANALYST


@pytest.mark.django_db
def test_deny_unmapped_refuses_and_creates_nobody(client, monkeypatch, settings):
    settings.OIDC_DENY_UNMAPPED = True
    response = sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info(groups=["x"]))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "Your account has not been provisioned. Ask an administrator for access." in flash(response)
    assert signed_in_user(client) is None
    assert not User.objects.filter(email="pat@example.test").exists()
    refused = events_of(events.SSO_REFUSED).get()
    assert {k: refused.metadata[k] for k in ("issuer", "subject", "role", "reason")} == {
        "issuer": ISSUER, "subject": "user-1", "role": None, "reason": "role_unmapped"
    }  # fmt: skip


# --- ID token checks (ACC-27) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "key"),
    [
        pytest.param(id_claims(aud="another-client"), _KEY, id="wrong-aud"),
        pytest.param(id_claims(iss="https://evil.example.test"), _KEY, id="wrong-iss"),
        pytest.param(id_claims(iss=ISSUER + "/"), _KEY, id="iss-not-exact"),
        pytest.param(id_claims(aud=[CLIENT_ID, "another-client"]), _KEY, id="several-aud-without-azp"),
        pytest.param(id_claims(aud=[CLIENT_ID, "other"], azp="other"), _KEY, id="azp-not-client"),
        pytest.param(id_claims(exp=int(time.time()) - 3600), _KEY, id="expired"),
        pytest.param(id_claims(nonce="replayed"), _KEY, id="wrong-nonce"),
        pytest.param(id_claims(), _OTHER_KEY, id="bad-signature"),
    ],
)
@pytest.mark.django_db
def test_invalid_id_token_is_refused_on_the_login_page_not_a_500(client, monkeypatch, claims, key):
    response = sso_callback(client, monkeypatch, token_claims=claims, userinfo=planner_info(),
                            id_token=sign(claims, key=key))  # fmt: skip

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "Single sign-on failed. Try again or contact an administrator." in flash(response)
    assert signed_in_user(client) is None
    assert not SsoIdentity.objects.exists()
    assert events_of(events.SSO_REFUSED).get().metadata["reason"] == "invalid_id_token"
    page = client.get("/accounts/login/")
    assert page.status_code == 200


@pytest.mark.django_db
def test_several_audiences_are_accepted_when_azp_is_the_client(client, monkeypatch):
    claims = id_claims(aud=[CLIENT_ID, "api"], azp=CLIENT_ID)
    sso_callback(client, monkeypatch, token_claims=claims, userinfo=planner_info())
    assert signed_in_user(client).email == "pat@example.test"


@pytest.mark.django_db
def test_userinfo_for_another_subject_is_refused(client, monkeypatch):
    response = sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info(sub="someone-else"))
    assert response["Location"] == "/accounts/login/"
    assert signed_in_user(client) is None


@pytest.mark.django_db
def test_callback_with_unknown_state_goes_back_to_login(client):
    response = client.get("/oidc/callback/", {"code": "c", "state": "forged"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


# --- identity: (issuer, subject), email linking only when verified (ACC-28) ----------------------------


@pytest.mark.django_db
def test_local_account_with_same_email_is_not_taken_over_when_email_is_unverified(client, monkeypatch, make_user):
    local = make_user(Role.ADMIN, email="pat@example.test")
    response = sso_callback(client, monkeypatch, token_claims=id_claims(),
                            userinfo=planner_info(email_verified=False))  # fmt: skip

    assert response["Location"] == "/accounts/login/"
    assert signed_in_user(client) is None
    assert not SsoIdentity.objects.filter(user=local).exists()
    assert events_of(events.SSO_REFUSED).get().metadata["reason"] == "email_in_use"


@pytest.mark.django_db
def test_local_account_is_not_linked_when_linking_is_off(client, monkeypatch, make_user, settings):
    settings.OIDC_LINK_BY_EMAIL = False
    make_user(Role.VIEWER, email="pat@example.test")
    sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info())
    assert signed_in_user(client) is None
    assert not SsoIdentity.objects.exists()


@pytest.mark.django_db
def test_verified_email_links_the_active_local_account_and_is_audited(client, monkeypatch, make_user):
    local = make_user(Role.VIEWER, email="Pat@Example.test")

    sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info(email="pat@example.test"))

    user = signed_in_user(client)
    assert user.pk == local.pk
    assert user.auth_source == AuthSource.LOCAL  # keeps its password
    assert user.role_managed_by == AuthSource.SSO
    assert user.role == Role.DEMAND_PLANNER
    assert SsoIdentity.objects.get(user=local).subject == "user-1"
    linked = events_of(events.SSO_LINKED).get()
    assert linked.metadata["subject"] == "user-1"
    assert linked.target_id == str(local.pk)
    assert events_of(events.USER_ROLE_CHANGED).get().metadata["via"] == "sso"


@pytest.mark.django_db
def test_known_subject_signs_in_even_after_the_email_changes(client, monkeypatch):
    sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info())
    first = signed_in_user(client)
    client.logout()

    sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info(email="renamed@example.test"))
    assert signed_in_user(client).pk == first.pk
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_same_email_under_another_subject_of_the_same_provider_is_refused(client, monkeypatch):
    sso_callback(client, monkeypatch, token_claims=id_claims(sub="user-1"), userinfo=planner_info())
    client.logout()

    sso_callback(client, monkeypatch, token_claims=id_claims(sub="user-2"), userinfo=planner_info())
    assert signed_in_user(client) is None
    assert events_of(events.SSO_REFUSED).get().metadata["reason"] == "identity_conflict"


@pytest.mark.django_db
def test_role_change_at_next_login_is_applied_and_audited_via_sso(client, monkeypatch):
    sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info())
    client.logout()

    sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info(groups=["sop-admins"]))

    user = signed_in_user(client)
    assert user.role == Role.ADMIN
    assert list(user.groups.values_list("name", flat=True)) == [Role.ADMIN]
    change = events_of(events.USER_ROLE_CHANGED).get()
    assert change.before == {"role": Role.DEMAND_PLANNER}
    assert change.after == {"role": Role.ADMIN}
    assert change.metadata["via"] == "sso"
    assert change.actor is None
    assert change.source == "ui"


@pytest.mark.django_db
def test_role_sync_never_demotes_the_last_active_admin(client, monkeypatch, caplog):
    # Given the only active administrator, signed in once through SSO as a member of "sop-admins"
    sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info(groups=["sop-admins"]))
    admin = signed_in_user(client)
    assert admin.role == Role.ADMIN
    assert User.objects.filter(role=Role.ADMIN, is_active=True).count() == 1
    client.logout()

    # When the provider now maps them to a planner role
    with caplog.at_level("WARNING", logger="genxsop.security"):
        response = sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info())

    # Then they sign in and stay admin; the skipped sync is audited with the reason and logged
    assert response["Location"] == "/"
    user = signed_in_user(client)
    assert user.pk == admin.pk
    assert user.role == Role.ADMIN
    assert list(user.groups.values_list("name", flat=True)) == [Role.ADMIN]
    assert not events_of(events.USER_ROLE_CHANGED).exists()
    skipped = events_of(events.SSO_ROLE_SYNC_SKIPPED).get()
    assert skipped.target_id == str(admin.pk)
    assert skipped.actor is None
    assert {k: skipped.metadata[k] for k in ("reason", "mapped_role", "issuer", "subject", "via")} == {
        "reason": "last_active_admin", "mapped_role": Role.DEMAND_PLANNER, "issuer": ISSUER, "subject": "user-1",
        "via": "sso",
    }  # fmt: skip
    assert events_of(events.SSO_LOGIN).last().metadata["role"] == Role.ADMIN
    assert [r for r in caplog.records if r.getMessage() == "sso_role_sync_skipped" and r.levelname == "WARNING"]


@pytest.mark.django_db
def test_role_sync_demotes_an_admin_when_another_admin_remains(client, monkeypatch, make_user):
    make_user(Role.ADMIN, email="other-admin@example.test")
    sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info(groups=["sop-admins"]))
    client.logout()

    sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info())

    assert signed_in_user(client).role == Role.DEMAND_PLANNER
    assert events_of(events.USER_ROLE_CHANGED).get().after == {"role": Role.DEMAND_PLANNER}
    assert not events_of(events.SSO_ROLE_SYNC_SKIPPED).exists()


# --- two first logins racing (the loser's insert hits the winner's unique row) ----------------------------


def first_look_misses(monkeypatch) -> list[dict]:
    """This login's first look for its identity precedes the winner's commit; later looks see it."""
    from governance.services import sso as sso_service

    real_identity_for = sso_service._identity_for
    looks = []

    def identity_for(**kwargs):
        looks.append(kwargs)
        return None if len(looks) == 1 else real_identity_for(**kwargs)

    monkeypatch.setattr(sso_service, "_identity_for", identity_for)
    return looks


@pytest.fixture(params=["simulated", "database"])
def lost_race(request, monkeypatch):
    """Make this login lose a race: its reads miss the winner's rows, its insert raises IntegrityError.

    "simulated" raises it from the provisioning step; "database" lets the real INSERT hit the
    unique email index (on PostgreSQL that aborts the transaction unless a savepoint contains it).
    """
    from django.db import IntegrityError

    from governance.services import sso as sso_service

    def provision(**kwargs):
        raise IntegrityError('duplicate key value violates unique constraint "uq_users_email_ci"')

    looks = first_look_misses(monkeypatch)
    if request.param == "simulated":
        monkeypatch.setattr(sso_service, "_provision", provision)
    else:
        monkeypatch.setattr(sso_service, "validate_instance", lambda *args, **kwargs: None)  # the pre-check raced too
    monkeypatch.setattr(User.objects, "select_for_update", lambda: User.objects.none())  # the email read misses too
    return looks


def winner(sub: str) -> User:
    user = user_create(actor=None, email="pat@example.test", full_name="Pat Planner", role=Role.DEMAND_PLANNER)
    SsoIdentity.objects.create(user=user, issuer=ISSUER, subject=sub, email_at_link=user.email)
    return user


@pytest.mark.django_db
def test_racing_first_login_of_the_same_subject_signs_in_to_the_winners_account(client, monkeypatch, lost_race):
    # Given another first login for the same subject committed while this one was provisioning
    first = winner("user-1")

    # When this login's insert hits the winner's unique row
    response = sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info())

    # Then it is not a 500: the winner's identity is re-read and the person is signed in to that account
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_user(client).pk == first.pk
    assert len(lost_race) == 2
    assert User.objects.count() == 1
    assert SsoIdentity.objects.count() == 1
    assert not events_of(events.SSO_PROVISIONED).exists()  # the loser's writes were rolled back to the savepoint
    assert events_of(events.SSO_LOGIN).get().target_id == str(first.pk)


@pytest.mark.django_db
def test_racing_first_login_of_another_subject_with_the_same_email_is_refused(client, monkeypatch, lost_race):
    # Given another subject with the same email won the race to provision the account
    winner("user-other")

    # When this subject's provisioning hits the unique email
    response = sso_callback(client, monkeypatch, token_claims=id_claims(sub="user-1"), userinfo=planner_info())

    # Then the normal refusal is shown on the login page, nobody is signed in and the refusal is audited
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "Your account has not been provisioned. Ask an administrator for access." in flash(response)
    assert signed_in_user(client) is None
    assert list(SsoIdentity.objects.values_list("subject", flat=True)) == ["user-other"]
    refused = events_of(events.SSO_REFUSED).get()
    assert (refused.metadata["reason"], refused.metadata["subject"]) == ("provisioning_conflict", "user-1")


@pytest.mark.django_db
def test_racing_link_of_the_same_subject_uses_the_identity_the_winner_created(client, monkeypatch, make_user):
    # Given a local account that a concurrent first login of the same subject linked while this one
    # waited for the account's row lock (so this login's first look found no identity)
    local = make_user(Role.VIEWER, email="pat@example.test")
    SsoIdentity.objects.create(user=local, issuer=ISSUER, subject="user-1", email_at_link=local.email)
    first_look_misses(monkeypatch)

    # When this login goes on to link by the verified email
    response = sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info())

    # Then it signs in to that account instead of refusing it as linked to "another" subject
    assert response["Location"] == "/"
    assert signed_in_user(client).pk == local.pk
    assert SsoIdentity.objects.filter(user=local).count() == 1
    assert not events_of(events.SSO_LINKED).exists()
    assert not events_of(events.SSO_REFUSED).exists()


@pytest.mark.django_db
def test_role_is_left_alone_when_sync_is_off(client, monkeypatch, settings):
    sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info())
    client.logout()
    settings.OIDC_SYNC_ROLE_ON_LOGIN = False

    sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info(groups=["sop-admins"]))
    assert signed_in_user(client).role == Role.DEMAND_PLANNER
    assert not events_of(events.USER_ROLE_CHANGED).exists()


@pytest.mark.django_db
def test_deactivated_user_is_refused_with_a_message(client, monkeypatch):
    sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info())
    client.logout()
    User.objects.filter(email="pat@example.test").update(is_active=False)

    response = sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info())
    assert response["Location"] == "/accounts/login/"
    assert signed_in_user(client) is None
    page = client.get("/accounts/login/")
    assert "Your account has been deactivated" in page.content.decode()
    assert events_of(events.SSO_REFUSED).get().metadata["reason"] == "user_inactive"


@pytest.mark.django_db
def test_jit_off_refuses_unknown_people(client, monkeypatch, settings):
    settings.OIDC_JIT_PROVISIONING = False
    response = sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info())
    assert "Your account has not been provisioned. Ask an administrator for access." in flash(response)
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("email", "verified", "allowed"),
    [
        ("pat@example.test", True, True),
        ("pat@EXAMPLE.test", True, True),
        ("pat@elsewhere.test", True, False),
        ("pat@example.test", False, False),  # an allow-list trusts only addresses the provider verified
    ],
)
@pytest.mark.django_db
def test_jit_domain_allow_list(client, monkeypatch, settings, email, verified, allowed):
    settings.OIDC_ALLOWED_EMAIL_DOMAINS = ["example.test"]
    sso_callback(client, monkeypatch, token_claims=id_claims(),
                 userinfo=planner_info(email=email, email_verified=verified))  # fmt: skip
    assert (signed_in_user(client) is not None) is allowed
    if not allowed:
        assert events_of(events.SSO_REFUSED).get().metadata["reason"] == "domain_not_allowed"


# --- MFA at the provider (acr / amr) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("required", "token_extra", "allowed"),
    [
        ({"OIDC_REQUIRED_ACR": ["urn:mfa"]}, {}, False),
        ({"OIDC_REQUIRED_ACR": ["urn:mfa"]}, {"acr": "urn:pwd"}, False),
        ({"OIDC_REQUIRED_ACR": ["urn:mfa", "urn:hwk"]}, {"acr": "urn:hwk"}, True),
        ({"OIDC_REQUIRED_AMR": ["mfa", "otp"]}, {"amr": ["pwd"]}, False),
        ({"OIDC_REQUIRED_AMR": ["mfa", "otp"]}, {"amr": ["pwd", "otp"]}, True),
    ],
)
@pytest.mark.django_db
def test_provider_mfa_requirement(client, monkeypatch, settings, required, token_extra, allowed):
    for name, value in required.items():
        setattr(settings, name, value)
    # acr/amr are taken from the signed ID token only, never from userinfo
    response = sso_callback(client, monkeypatch, token_claims=id_claims(**token_extra),
                            userinfo=planner_info(acr="urn:mfa", amr=["mfa"]))  # fmt: skip
    assert (signed_in_user(client) is not None) is allowed
    if not allowed:
        assert any("multi-factor" in m for m in flash(response))
        assert events_of(events.SSO_REFUSED).get().metadata["reason"] in ("acr_not_satisfied", "amr_not_satisfied")


# --- the authorization request, disabled SSO, local logins ------------------------------------------


@pytest.mark.django_db
def test_authorization_request_uses_pkce_state_nonce_and_asks_for_acr(client, settings):
    settings.OIDC_REQUIRED_ACR = ["urn:mfa"]
    response = client.get("/oidc/authenticate/", {"next": "/catalog/products/"})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{ISSUER}/auth?")
    for part in ("code_challenge=", "code_challenge_method=S256", "state=", "nonce=", "acr_values=urn%3Amfa",
                 f"client_id={CLIENT_ID}", "scope=openid+email+profile+groups"):  # fmt: skip
        assert part in location
    assert client.session["oidc_login_next"] == "/catalog/products/"


@pytest.mark.django_db
def test_sso_endpoints_are_404_and_the_button_hidden_when_disabled(client, settings):
    settings.OIDC_ENABLED = False
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/", {"code": "c", "state": "s"}).status_code == 404
    assert "Sign in with SSO" not in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_login_page_offers_sso_when_enabled(client):
    page = client.get("/accounts/login/?next=/catalog/products/").content.decode()
    assert "Sign in with SSO" in page
    assert 'href="/oidc/authenticate/?next=/catalog/products/"' in page or "/oidc/authenticate/?next=%2F" in page


@pytest.mark.django_db
def test_local_password_login_still_works_with_sso_enabled(client, make_user):
    make_user(Role.VIEWER, email="local@example.test", password="Correct-Horse-Battery-9")
    response = client.post("/accounts/login/", {"login": "local@example.test", "password": "Correct-Horse-Battery-9"})
    assert response.status_code == 302
    assert signed_in_user(client).email == "local@example.test"


# --- logout (ACC-31) ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_console_logout_of_an_sso_session_ends_the_provider_session(client, monkeypatch):
    sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info())
    id_token = client.session["oidc_id_token"]

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{ISSUER}/session/end?")
    assert f"id_token_hint={id_token}" in location
    assert "post_logout_redirect_uri=http%3A%2F%2Ftestserver%2Faccounts%2Flogin%2F" in location
    assert signed_in_user(client) is None


@pytest.mark.django_db
def test_console_logout_of_a_local_session_stays_local(client, make_user):
    user = make_user(Role.VIEWER)
    client.force_login(user)
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"


@pytest.mark.django_db
def test_sso_sessions_end_when_sso_is_switched_off(client, monkeypatch, settings):
    sso_callback(client, monkeypatch, token_claims=id_claims(), userinfo=planner_info())
    settings.OIDC_ENABLED = False
    response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- OIDC bearer access tokens on the API ---------------------------------------------------------------


def access_claims(sub: str = "user-1", **extra) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "aud": CLIENT_ID, "sub": sub, "iat": now, "exp": now + 300, "scope": "openid", **extra}


@pytest.fixture
def sso_user(db):
    user = user_create(actor=None, email="pat@example.test", full_name="Pat Planner", role=Role.DEMAND_PLANNER)
    SsoIdentity.objects.create(user=user, issuer=ISSUER, subject="user-1")
    return user


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_bearer_access_token_authenticates_the_linked_user(sso_user):
    response = bearer(sign(access_claims())).get("/api/v1/auth/me")
    assert response.status_code == 200
    assert response.json()["email"] == "pat@example.test"


def test_bearer_token_with_a_list_audience_and_a_configured_api_audience(sso_user, settings):
    settings.OIDC_API_AUDIENCE = "genxsop-api"
    assert bearer(sign(access_claims())).get("/api/v1/auth/me").status_code == 401
    assert bearer(sign(access_claims(aud=["x", "genxsop-api"]))).get("/api/v1/auth/me").status_code == 200


@pytest.mark.parametrize(
    ("claims", "key"),
    [
        pytest.param(access_claims(aud="another-api"), _KEY, id="wrong-aud"),
        pytest.param(access_claims(iss="https://evil.example.test"), _KEY, id="wrong-iss"),
        pytest.param(access_claims(exp=int(time.time()) - 3600), _KEY, id="expired"),
        pytest.param(access_claims(sub="stranger"), _KEY, id="unknown-sub"),
        pytest.param(access_claims(), _OTHER_KEY, id="bad-signature"),
        pytest.param(access_claims(nonce="n"), _KEY, id="id-token-as-access-token"),
    ],
)
def test_bearer_token_is_refused(sso_user, claims, key):
    response = bearer(sign(claims, key=key)).get("/api/v1/auth/me")
    assert response.status_code == 401


def test_bearer_token_of_a_deactivated_user_is_refused(sso_user):
    User.objects.filter(pk=sso_user.pk).update(is_active=False)
    assert bearer(sign(access_claims())).get("/api/v1/auth/me").status_code == 401


def test_bearer_tokens_are_ignored_when_sso_is_off(sso_user, settings):
    settings.OIDC_ENABLED = False
    assert bearer(sign(access_claims())).get("/api/v1/auth/me").status_code == 401


def test_bearer_tokens_cannot_manage_users(sso_user):
    User.objects.filter(pk=sso_user.pk).update(role=Role.ADMIN)
    response = bearer(sign(access_claims())).get("/api/v1/auth/sso/role-mappings")
    assert response.status_code == 403


def test_unknown_signing_key_id_refetches_the_key_set_once(sso_user, monkeypatch):
    calls = []
    monkeypatch.setattr(oidc, "fetch_jwks", lambda uri: calls.append(uri) or _jwks())
    assert bearer(sign(access_claims())).get("/api/v1/auth/me").status_code == 200
    assert bearer(sign(access_claims())).get("/api/v1/auth/me").status_code == 200
    assert len(calls) == 1  # cached
    assert bearer(sign(access_claims(), kid="rotated")).get("/api/v1/auth/me").status_code == 401


# --- role mapping API (API-AUTH-22/23) ------------------------------------------------------------------


@pytest.fixture
def admin_session(admin_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


URL = "/api/v1/auth/sso/role-mappings"


def test_admin_lists_the_mappings_seeded_from_the_environment(admin_session):
    response = admin_session.get(URL)
    assert response.status_code == 200
    assert [(m["claim_value"], m["role"]) for m in response.json()] == [
        ("execs", Role.EXECUTIVE), ("planners", Role.DEMAND_PLANNER), ("sop-admins", Role.ADMIN)
    ]  # fmt: skip
    admin_session.get(URL)
    assert events_of(events.SSO_ROLE_MAPPINGS_SEEDED).count() == 1


def test_admin_replaces_the_mappings_and_it_is_audited(admin_session, admin_user):
    response = admin_session.put(URL, {"mappings": [{"claim_value": "finance", "role": "finance_analyst"}]},
                                 format="json")  # fmt: skip
    assert response.status_code == 200
    assert [(m["claim_value"], m["role"]) for m in response.json()] == [("finance", Role.FINANCE_ANALYST)]
    assert SsoRoleMapping.objects.get().created_by == admin_user
    replaced = events_of(events.SSO_ROLE_MAPPINGS_REPLACED).get()
    assert replaced.actor == admin_user
    assert replaced.after == {"mappings": [{"claim_value": "finance", "role": "finance_analyst"}]}


def test_an_emptied_set_is_not_reseeded_from_the_environment(admin_session):
    assert admin_session.put(URL, {"mappings": []}, format="json").status_code == 200
    assert admin_session.get(URL).json() == []


@pytest.mark.parametrize(
    "mappings",
    [
        [{"claim_value": "a", "role": "overlord"}],
        [{"claim_value": "a", "role": "viewer"}, {"claim_value": "a", "role": "admin"}],
        [{"claim_value": "", "role": "viewer"}],
    ],
    ids=["unknown-role", "duplicate-claim", "empty-claim"],
)
def test_replace_refuses_bad_rules(admin_session, mappings):
    before = list(SsoRoleMapping.objects.values_list("claim_value", flat=True))
    response = admin_session.put(URL, {"mappings": mappings}, format="json")
    assert response.status_code == 400
    assert list(SsoRoleMapping.objects.values_list("claim_value", flat=True)) == before
    assert not events_of(events.SSO_ROLE_MAPPINGS_REPLACED).exists()


@pytest.mark.parametrize("method", ["get", "put"])
def test_role_mappings_are_admin_only(users, method, anon_client, api_client_for):
    body = {"mappings": []}
    assert getattr(anon_client, method)(URL, body, format="json").status_code == 401
    planner = APIClient()
    planner.force_authenticate(users[Role.SOP_COORDINATOR])
    assert getattr(planner, method)(URL, body, format="json").status_code == 403
    # integration tokens never manage users, even an admin's (ACC-25)
    assert getattr(api_client_for(users[Role.ADMIN]), method)(URL, body, format="json").status_code == 403


# --- settings read at startup (a fresh interpreter, as an operator would start the app) -----------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OIDC_ROLE_MAPPING", '{"sop-admins": "overlord"}'),
        ("OIDC_ROLE_MAPPING", '["admin"]'),
        ("OIDC_DEFAULT_ROLE", "superuser"),
        ("OIDC_RP_SIGN_ALGO", "HS256"),
        ("OIDC_DENY_UNMAPPED", "perhaps"),
    ],
)
def test_invalid_sso_settings_stop_startup_naming_the_variable(name, value):
    from tests.platform.subproc import base_env, manage

    proc = manage("check", env=base_env(**{name: value}))
    assert proc.returncode != 0
    assert name in proc.stderr


def test_form_action_allows_the_provider_origins_when_sso_is_on():
    import subprocess

    from tests.platform.subproc import PYTHON, ROOT, base_env

    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "import json; print(json.dumps([s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'], "
        "s.AUTHENTICATION_BACKENDS]))"
    )
    env = base_env(OIDC_ENABLED="true", OIDC_OP_ISSUER="https://idp.example.test/realms/acme",
                   OIDC_OP_LOGOUT_ENDPOINT="https://logout.example.test/end")  # fmt: skip
    proc = subprocess.run([PYTHON, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    assert proc.returncode == 0, proc.stderr
    form_action, backends = json.loads(proc.stdout)
    assert form_action == ["'self'", "https://idp.example.test", "https://logout.example.test"]
    assert "governance.oidc.StrictOIDCBackend" in backends

"""Real sign-in refuses what an attacker could make up (issue 10, High 1 and 2).

The decisions are pure functions of `ui.session` (tested first on their own), and the
whole app is then run through AppTest with the identity Streamlit would hand it: a
guessable cookie secret switches sign-in off, an identity without `exp` is signed out,
and an email the provider did not verify signs nobody in.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from data_access.engine import make_engine
from data_access.models import AuditEvent, table_of
from data_access.policy import AccessDenied
from tests.app.conftest import APP, email
from ui.session import cookie_secret_problem, identity_expired, verified_email

CHECKOUT = Path(__file__).resolve().parents[2]
STRONG_SECRET = "k3Vq9xZ2pL7mN4rT8wY1bC6dF0gH5jS2aE9uI3oP7"
ISSUER = "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0"
STEWARD = email("steward")
FAR_FUTURE = 4_000_000_000


def secrets(cookie_secret: str, **pathwise: Any) -> dict[str, Any]:
    auth = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": cookie_secret,
        "district": {
            "client_id": "pathwise",
            "client_secret": "not-used-here",
            "server_metadata_url": "http://localhost:9/.well-known/openid-configuration",
        },
    }
    return {"auth": auth, "pathwise": pathwise} if pathwise else {"auth": auth}


def run_app(secrets: dict[str, Any], user: dict[str, Any]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = secrets
    at.user = user
    at.run()
    return at


@pytest.fixture
def real_sign_in(demo_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "0")


def the_example_secret() -> str:
    example = tomllib.loads((CHECKOUT / ".streamlit" / "secrets.toml.example").read_text())
    return str(example["auth"]["cookie_secret"])


def test_the_cookie_secret_of_the_example_file_or_a_short_one_is_refused() -> None:
    assert "example value" in (cookie_secret_problem(the_example_secret()) or "")
    assert "31 characters" in (cookie_secret_problem("a" * 31) or "")
    assert "missing" in (cookie_secret_problem(None) or "")
    assert cookie_secret_problem(STRONG_SECRET) is None


def test_an_identity_without_exp_or_past_its_exp_is_expired() -> None:
    assert identity_expired({"email": STEWARD}, now=1_000)
    assert identity_expired({"email": STEWARD, "exp": "4000000000"}, now=1_000)
    assert identity_expired({"email": STEWARD, "exp": 999}, now=1_000)
    assert not identity_expired({"email": STEWARD, "exp": 1_001}, now=1_000)


def test_only_an_email_the_provider_verified_or_a_trusted_directory_sent_counts() -> None:
    assert verified_email({"email": STEWARD, "email_verified": True}, ()) == STEWARD
    assert verified_email({"email": STEWARD, "email_verified": "true"}, ()) == STEWARD
    assert verified_email({"email": STEWARD, "iss": ISSUER}, {ISSUER}) == STEWARD
    for claims, trusted in (
        ({"email": STEWARD, "email_verified": False}, ()),
        ({"email": STEWARD, "email_verified": False, "iss": ISSUER}, {ISSUER}),
        ({"email": STEWARD, "email_verified": "false", "iss": ISSUER}, {ISSUER}),
        ({"email": STEWARD, "iss": ISSUER}, ()),
        ({"email": STEWARD, "iss": "https://login.microsoftonline.com/common/v2.0"}, {ISSUER}),
        ({"email_verified": True}, ()),
    ):
        with pytest.raises(AccessDenied):
            verified_email(claims, trusted)


@pytest.mark.usefixtures("real_sign_in")
@pytest.mark.parametrize("cookie_secret", ["the-example", "short-secret-of-24-chars"])
def test_a_guessable_cookie_secret_switches_sign_in_off_for_everyone(cookie_secret: str) -> None:
    secret = the_example_secret() if cookie_secret == "the-example" else cookie_secret
    forged = {"is_logged_in": True, "email": STEWARD, "email_verified": True, "exp": FAR_FUTURE}
    for user in (forged, {"is_logged_in": False}):
        at = run_app(secrets(secret), user)
        assert not at.exception
        assert [e.value for e in at.error if "Sign-in is switched off" in e.value]
        assert not at.title and not at.button and not at.dataframe


@pytest.mark.usefixtures("real_sign_in")
def test_an_identity_without_exp_is_signed_out() -> None:
    at = run_app(secrets(STRONG_SECRET), {"is_logged_in": True, "email": STEWARD})
    assert at.user == {"is_logged_in": False}
    at.run()
    assert at.title[0].value == "Sign in to Pathwise"
    assert not at.dataframe


@pytest.mark.usefixtures("real_sign_in")
def test_an_email_the_provider_did_not_verify_signs_nobody_in() -> None:
    user = {"is_logged_in": True, "email": STEWARD, "email_verified": False, "exp": FAR_FUTURE}
    at = run_app(secrets(STRONG_SECRET), user)
    assert at.title[0].value == "You have no access yet"
    assert any("has not confirmed" in w.value for w in at.warning)
    assert not at.dataframe


@pytest.mark.usefixtures("real_sign_in")
def test_an_unverified_email_is_recorded_as_a_refused_sign_in(demo_url: str) -> None:
    """Every refusal is audited (issue 10, item 8), also the one made before the users
    table is asked."""
    events = table_of(AuditEvent)
    with make_engine(demo_url).connect() as connection:
        before = connection.execute(
            select(events.c.event_id).where(events.c.action == "sign_in")
        ).all()
    user = {"is_logged_in": True, "email": STEWARD, "email_verified": False, "exp": FAR_FUTURE}
    run_app(secrets(STRONG_SECRET), user)
    with make_engine(demo_url).connect() as connection:
        refused = connection.execute(
            select(events.c.user_email, events.c.outcome, events.c.detail).where(
                events.c.action == "sign_in", events.c.event_id.notin_([r[0] for r in before])
            )
        ).all()
    assert refused, "the refused sign-in left no audit record"
    assert {(r.user_email, r.outcome) for r in refused} == {(STEWARD, "denied")}
    assert all("unverified_email" in r.detail for r in refused)


@pytest.mark.usefixtures("real_sign_in")
def test_an_entra_identity_without_email_verified_needs_the_district_to_trust_its_issuer() -> None:
    user = {"is_logged_in": True, "email": STEWARD, "iss": ISSUER, "exp": FAR_FUTURE}
    untrusted = run_app(secrets(STRONG_SECRET), user)
    assert untrusted.title[0].value == "You have no access yet"
    trusted = run_app(secrets(STRONG_SECRET, trusted_email_issuers=[ISSUER]), user)
    assert trusted.title[0].value == "Who needs help this week?"


def test_the_demo_user_in_the_address_is_honoured_only_by_demo_sign_in(
    demo_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = AppTest.from_file(APP, default_timeout=60)
    demo.user = {"is_logged_in": False}
    demo.query_params["demo_user"] = STEWARD
    demo.run()
    assert demo.title[0].value == "Who needs help this week?"
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "0")
    real = run_app(secrets(STRONG_SECRET), {"is_logged_in": False})
    real.query_params["demo_user"] = STEWARD
    real.run()
    assert real.title[0].value == "Sign in to Pathwise"
    assert not real.dataframe

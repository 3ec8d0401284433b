"""Browser tests: a real `streamlit run`, a real OIDC provider, Debian's Chromium.

- `oidc-provider-mock` (from PyPI) runs in a thread and speaks real OpenID Connect; its
  users are demo users, so the email the app receives maps to a Pathwise user.
- The app runs as a subprocess on a free port against a small demo database, with a
  temporary secrets file (`--secrets.files`) naming that provider. Demo sign-in is off:
  sign-in goes through the OIDC round trip, as in production. Two more instances serve
  the tests that need another configuration: `example_secret_app_url` (the cookie secret
  copied from `.streamlit/secrets.toml.example`, which must switch sign-in off) and
  `demo_app_url` (demo sign-in on, as `make run` offers it on the demo district).
- Playwright drives `/usr/bin/chromium` through `executable_path` (Playwright's own browser
  download does not work on these machines).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from oidc_provider_mock import User, run_server_in_thread
from playwright.sync_api import Page
from sqlalchemy import text

from data_access.demo_build import build_demo
from data_access.engine import make_engine
from demo_district.generate import DemoSpec

CHECKOUT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TODAY = date.today()
SPEC = DemoSpec(students=400, seed=5, today=TODAY)
OIDC_USERS = {
    "counselor": "counselor.hs01@demo.pathwise.example",
    **{f"counselor-hs0{i}": f"counselor.hs0{i}@demo.pathwise.example" for i in range(1, 7)},
    "leader": "leader@demo.pathwise.example",
    "steward": "steward@demo.pathwise.example",
    "partner": "staff.org01@demo.pathwise.example",
    "student": "student@demo.pathwise.example",
    "viewer": "viewer@demo.pathwise.example",
    "stranger": "stranger@elsewhere.example",
}
#: The steward's address from an account whose provider says it is not verified.
UNVERIFIED_STEWARD = "unverified-steward"
#: The leader's address without `email_verified`, as Microsoft Entra ID sends it; the main
#: app lists this provider's issuer in `[pathwise] trusted_email_issuers`.
DIRECTORY_LEADER = "directory-leader"
COOKIE_SECRET = "test-only-cookie-secret-0123456789abcdef"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("browser-db") / "demo.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    build_demo(engine, SPEC)
    engine.dispose()
    return url


def parent_email(database_url: str) -> str:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        email = connection.execute(
            text("SELECT email FROM app_user WHERE role = 'parent' ORDER BY email")
        ).scalar_one()
    engine.dispose()
    return str(email)


@pytest.fixture(scope="session")
def oidc_issuer(demo_database: str) -> Iterator[str]:
    people = {**OIDC_USERS, "parent": parent_email(demo_database)}
    users = [
        User(sub=sub, claims={"email": email, "email_verified": True, "name": sub.title()})
        for sub, email in people.items()
    ]
    users += [
        User(sub=UNVERIFIED_STEWARD, claims={"email": OIDC_USERS["steward"], "email_verified": False}),
        User(sub=DIRECTORY_LEADER, claims={"email": OIDC_USERS["leader"], "name": "Directory"}),
    ]  # fmt: skip
    with run_server_in_thread(user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


def _wait_for_health(url: str, process: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"streamlit exited early:\n{process.stdout.read() if process.stdout else ''}"
            )
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("streamlit did not become healthy in time")


@contextmanager
def running_app(
    database_url: str, secrets: str | None, directory: Path, **env: str
) -> Iterator[str]:
    """`streamlit run app.py` on a free port with `secrets` (a TOML text, `{port}` filled
    in) and extra environment; yields its URL and stops it afterwards."""
    port = _free_port()
    options = []
    if secrets is not None:
        path = directory / "secrets.toml"
        path.write_text(textwrap.dedent(secrets).replace("{port}", str(port)))
        options = ["--secrets.files", str(path)]
    environment = {**os.environ, "PATHWISE_DATABASE_URL": database_url, **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", *options],
        cwd=CHECKOUT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://localhost:{port}"
    try:
        _wait_for_health(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def oidc_secrets(oidc_issuer: str, cookie_secret: str) -> str:
    return f"""
        [auth]
        redirect_uri = "http://localhost:{{port}}/oauth2callback"
        cookie_secret = "{cookie_secret}"

        [auth.district]
        client_id = "pathwise"
        client_secret = "test-secret"
        server_metadata_url = "{oidc_issuer}/.well-known/openid-configuration"
        client_kwargs = {{ prompt = "login" }}

        [pathwise]
        trusted_email_issuers = ["{oidc_issuer}"]
        """


@pytest.fixture(scope="session")
def app_url(
    demo_database: str, oidc_issuer: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    secrets = oidc_secrets(oidc_issuer, COOKIE_SECRET)
    directory = tmp_path_factory.mktemp("secrets")
    with running_app(demo_database, secrets, directory, PATHWISE_DEMO_SIGNIN="0") as url:
        yield url


def example_cookie_secret() -> str:
    """The `cookie_secret` of `.streamlit/secrets.toml.example`, as a careless deployer copies it."""
    example = (CHECKOUT / ".streamlit" / "secrets.toml.example").read_text()
    match = re.search(r'^cookie_secret = "([^"]*)"', example, re.MULTILINE)
    assert match is not None
    return match.group(1)


@pytest.fixture(scope="session")
def example_secret_app_url(
    demo_database: str, oidc_issuer: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    secrets = oidc_secrets(oidc_issuer, example_cookie_secret())
    directory = tmp_path_factory.mktemp("example-secrets")
    with running_app(demo_database, secrets, directory, PATHWISE_DEMO_SIGNIN="0") as url:
        yield url


@pytest.fixture(scope="session")
def demo_app_url(demo_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("demo-app")
    with running_app(demo_database, None, directory, PATHWISE_DEMO_SIGNIN="1") as url:
        yield url


def forged_identity_cookie(cookie_secret: str, app_url: str, claims: dict[str, object]) -> str:
    """Streamlit's identity cookie for `claims`, signed with `cookie_secret` exactly as
    Streamlit signs it after a real sign-in (what anyone who knows the secret can do)."""
    from streamlit.web.server.starlette.starlette_app_utils import create_signed_value

    payload = json.dumps({**claims, "origin": app_url, "is_logged_in": True})
    return create_signed_value(cookie_secret, "_streamlit_user", payload).decode()


def wait_for_app(page: Page) -> None:
    """The signal Streamlit's own e2e suite uses: connected, and the script not running."""
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        state="attached", timeout=30000
    )
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=30000
    )
    page.wait_for_timeout(300)


def sign_in(page: Page, app_url: str, who: str) -> None:
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_role("button", name=re.compile("Sign in with")).click()
    page.wait_for_url(re.compile(r"/oauth2/authorize"), wait_until="domcontentloaded")
    page.get_by_role(
        "button", name=re.compile(rf"^(Authorize as )?{re.escape(who)}$")
    ).first.click()
    page.wait_for_url(re.compile(re.escape(app_url)))
    wait_for_app(page)


def open_page(page: Page, name: str) -> None:
    """Follow a link of the sidebar navigation."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    wait_for_app(page)


SCREENSHOTS = CHECKOUT / "docs" / "screenshots"


def screenshot(page: Page, name: str) -> None:
    """Save the page for the README once its script has finished and its tables have
    painted (data grids draw on a canvas a moment after the script has finished)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    wait_for_app(page)  # a page still running shows grey placeholders, not the page
    page.locator("[data-testid='stSkeleton']").first.wait_for(state="detached", timeout=30000)
    height = (page.viewport_size or {"height": 1000})["height"]
    for table in page.get_by_test_id("stDataFrame").all():
        box = table.bounding_box()
        if box is not None and box["y"] < height:  # grids below the fold never paint
            # The grid mounts its accessible table (headers, cells) when it has drawn.
            table.locator("[role='columnheader']").first.wait_for(state="attached", timeout=15000)
    page.wait_for_timeout(400)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

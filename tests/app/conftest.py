"""AppTest fixtures: the app against a small demo district, signed in as any demo user.

`at.user` is set explicitly (Streamlit 1.67's AppTest user); demo sign-in is switched on
for these tests, so the signed-in email comes from the session like a trainer's choice.
Every test runs the real page functions against a real SQLite database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data_access.demo_build import build_demo
from data_access.engine import make_engine
from demo_district.generate import DemoSpec

APP = str(Path(__file__).resolve().parents[2] / "app.py")
SPEC = DemoSpec(students=600, seed=9, today=date.today())


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("apptest") / "demo.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    build_demo(engine, SPEC)
    engine.dispose()
    return url


@pytest.fixture
def demo_env(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PATHWISE_DATABASE_URL", demo_url)
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")
    yield demo_url


def email(local: str) -> str:
    return local if "@" in local else f"{local}@demo.pathwise.example"


@pytest.fixture
def app_as(demo_env: str) -> Callable[..., AppTest]:
    """Run the whole app signed in as a demo user (or nobody)."""

    def run(who: str | None, **state: object) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.user = {"is_logged_in": False}
        if who is not None:
            at.session_state["demo_email"] = email(who)
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
        return at

    return run


@pytest.fixture
def page_as(demo_env: str) -> Callable[..., AppTest]:
    """Run one page function by itself (as the navigation would), signed in as a user."""

    def run(page: str, who: str, **state: object) -> AppTest:
        module, function = page.split(".")
        at = AppTest.from_string(
            f"from pages.{module} import {function}\nfrom ui.guard import guarded\nguarded({function})()\n",
            default_timeout=60,
        )
        at.user = {"is_logged_in": False}
        at.session_state["demo_email"] = email(who)
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
        return at

    return run

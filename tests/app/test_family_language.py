"""The family pages in the family's language (issue 16 part 2; ui/i18n.py).

A parent whose guardian row says Spanish reads My record in Spanish, dates written the
Spanish way; the switch changes it and the session remembers; the sign-in page has the
switch too, and a staff member stays in English whatever was chosen there.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from babel.dates import format_date
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data_access.engine import make_engine
from tests.app.conftest import APP
from ui.i18n import CHOICE_KEY

SPANISH_MONTH = re.compile(r"^\d{1,2} (ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic) \d{4}$")


@pytest.fixture(scope="module")
def spanish_family(
    demo_url: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, str, list[date]]:
    """A copy of the demo district whose family parent reads Spanish: its url, the parent's
    email and the start dates of the child's services."""
    source = Path(demo_url.removeprefix("sqlite:///"))
    copy = tmp_path_factory.mktemp("spanish") / "demo.db"
    shutil.copy2(source, copy)
    engine = make_engine(f"sqlite:///{copy}")
    with engine.begin() as connection:
        parent = connection.execute(
            text("SELECT email FROM app_user WHERE role = 'parent' ORDER BY email")
        ).scalar_one()
        connection.execute(
            text("UPDATE guardian SET language = 'es' WHERE guardian_email = :email"),
            {"email": parent},
        )
        starts = connection.execute(
            text(
                "SELECT s.start_date FROM service s JOIN guardian g ON g.student_id = s.student_id "
                "WHERE g.guardian_email = :email"
            ),
            {"email": parent},
        ).scalars()
        days = [d if isinstance(d, date) else date.fromisoformat(str(d)) for d in starts]
    engine.dispose()
    return f"sqlite:///{copy}", parent, days


@pytest.fixture
def as_spanish_parent(
    spanish_family: tuple[str, str, list[date]], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., AppTest]:
    url, parent, _days = spanish_family
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")

    def run(**state: object) -> AppTest:
        at = AppTest.from_string(
            "from pages.my_record import my_record_page\nfrom ui.guard import guarded\n"
            "guarded(my_record_page)()\n",
            default_timeout=60,
        )
        at.user = {"is_logged_in": False}
        at.session_state["demo_email"] = parent
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
        return at

    return run


def subheaders(at: AppTest) -> list[str]:
    return [s.value for s in at.subheader]


def test_a_parent_with_spanish_on_file_reads_my_record_in_spanish(
    as_spanish_parent: Callable[..., AppTest], spanish_family: tuple[str, str, list[date]]
) -> None:
    at = as_spanish_parent()
    assert not at.exception, at.exception
    assert (
        at.title[0].value == "¿Qué información tiene la escuela sobre nosotros y quién la ha visto?"
    )
    assert {
        "Asistencia",
        "Quién ha visto este expediente",
        "Notas compartidas con su familia",
    } <= set(subheaders(at))
    assert "Who has seen this record" not in subheaders(at)
    services = next(frame.value for frame in at.dataframe if "start_date" in frame.value.columns)
    shown = set(services["start_date"].to_list())
    expected = {format_date(day, "medium", locale="es") for day in spanish_family[2]}
    assert shown and shown <= expected
    assert all(SPANISH_MONTH.match(day) for day in shown), shown
    assert at.segmented_control[0].value == "es"


def test_the_switch_turns_my_record_to_english_and_the_session_keeps_it(
    as_spanish_parent: Callable[..., AppTest],
) -> None:
    at = as_spanish_parent()
    at.segmented_control[0].set_value("en").run()
    assert not at.exception, at.exception
    assert "Who has seen this record" in subheaders(at)
    assert at.session_state[CHOICE_KEY] == "en"
    at.run()
    assert "Who has seen this record" in subheaders(at)
    assert at.segmented_control[0].value == "en"


def test_a_choice_made_before_wins_over_the_language_on_file(
    as_spanish_parent: Callable[..., AppTest],
) -> None:
    at = as_spanish_parent(**{CHOICE_KEY: "en"})
    assert "Who has seen this record" in subheaders(at)


def test_the_sign_in_page_switches_to_spanish(demo_env: str) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {"is_logged_in": False}
    at.run()
    assert at.title[0].value == "Sign in to Pathwise"
    at.segmented_control[0].set_value("es").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Inicie sesión en Pathwise"
    assert at.selectbox[0].label == "Entrar como"


def test_staff_pages_stay_in_english_after_spanish_was_chosen(
    app_as: Callable[..., AppTest], demo_url: str
) -> None:
    """The same choice in the session: the family's sidebar is in Spanish, the
    counselor's in English, and staff get no switch."""
    engine = make_engine(demo_url)
    with engine.connect() as connection:
        parent = connection.execute(
            text("SELECT email FROM app_user WHERE role = 'parent' ORDER BY email")
        ).scalar_one()
    engine.dispose()
    family = app_as(parent, **{CHOICE_KEY: "es"})
    assert not family.exception, family.exception
    assert any("Ha iniciado sesión como" in c.value for c in family.sidebar.caption)
    assert family.segmented_control[0].value == "es"
    staff = app_as("counselor.hs01", **{CHOICE_KEY: "es"})
    assert not staff.exception, staff.exception
    assert any("Signed in as" in c.value for c in staff.sidebar.caption)
    assert staff.title[0].value == "Who needs help this week?"
    assert not staff.segmented_control

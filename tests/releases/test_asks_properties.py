"""What a partner learns from asking for a release does not depend on the student
(issue 16 part 1: "the partner learns nothing until the family signs").

Oracle (written from the issue, independently of the code): two districts identical but
for one student, the one the partner names, present in the first and absent in the
second. Whatever the steward does with the ask in either (nothing, match it to the named
student or to another, reject it), and whatever ended release of that student once named
the organisation, the partner receives the same ask number from `ask_for_release` and the
same rows from `my_asks` (but the moment of asking, the clock's) until a release naming
its organisation is signed.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, insert, text

from data_access import schema
from data_access.engine import make_engine
from data_access.identity import sign_in
from data_access.models import Consent, Student, table_of
from data_access.release_asks import ask_for_release, match_ask, my_asks, reject_ask
from tests.postgres_cluster import Cluster
from tests.worlds import TODAY, YESTERDAY, build_small_world

_numbers = itertools.count()
NAMES = ["Zoe", "Óscar", "Mai", "Jean-Luc", "Nnamdi", "O'Brien", "Lucía"]
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("asks") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    with engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_world(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[], AbstractContextManager[Engine]]:
    """A factory: each call gives a new database holding the small world."""

    @contextmanager
    def sqlite() -> Iterator[Engine]:
        path = tmp_path / f"world{next(_numbers)}.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        engine = make_engine(f"sqlite:///{path}")
        build_small_world(engine)
        try:
            yield engine
        finally:
            engine.dispose()

    @contextmanager
    def postgres() -> Iterator[Engine]:
        cluster: Cluster = request.getfixturevalue("pg_cluster")
        name = f"asks_{next(_numbers)}"
        admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name} TEMPLATE pathwise_template"))
        engine = make_engine(cluster.url(name))
        build_small_world(engine)
        try:
            yield engine
        finally:
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
            admin.dispose()

    return sqlite if request.param == "sqlite" else postgres


asks = st.fixed_dictionaries(
    {
        "first_name": st.sampled_from(NAMES),
        "last_name": st.sampled_from(NAMES),
        "school_id": st.sampled_from(["HS1", "HS2"]),
        "birth_date": st.one_of(st.none(), st.dates(date(2005, 1, 1), date(2012, 12, 31))),
        "note": st.one_of(st.none(), st.sampled_from(["", "Tuesdays", "needs a ride"])),
    }
)


def _add_named_student(engine: Engine, ask: dict, ended_release: str | None) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(table_of(Student)).values(
                student_id="S9", first_name=ask["first_name"], last_name=ask["last_name"],
                school_id=ask["school_id"], grade_level=10, cohort_year=2029,
                birth_date=ask["birth_date"] or date(2009, 5, 5),
            )
        )  # fmt: skip
        if ended_release is not None:
            ended = {"revoked_date": YESTERDAY} if ended_release == "revoked" else {}
            if ended_release == "expired":
                ended = {"expires_date": YESTERDAY}
            connection.execute(
                insert(table_of(Consent)).values(
                    consent_id="OLD", student_id="S9", org_id="ORGA", categories="attendance",
                    purpose="mentoring", signed_by="Parent", signer_relationship="parent",
                    signed_date=date(2025, 9, 1), **ended,
                )
            )  # fmt: skip


def _steward_does(engine: Engine, ask_id: int, decision: str) -> None:
    steward = sign_in(engine, "admin@d.org", TODAY)
    if decision == "match named":
        match_ask(engine, steward, ask_id, "S9")
    elif decision == "match another":
        match_ask(engine, steward, ask_id, "S2")
    elif decision == "reject":
        reject_ask(engine, steward, ask_id)


@SETTINGS
@given(
    ask=asks,
    earlier_asks=st.integers(0, 2),
    with_student=st.sampled_from(["nothing", "match named", "match another", "reject"]),
    without_student=st.sampled_from(["nothing", "match another", "reject"]),
    ended_release=st.sampled_from([None, "revoked", "expired"]),
)
def test_what_a_partner_learns_from_an_ask_does_not_depend_on_the_student(
    fresh_world: Callable[[], AbstractContextManager[Engine]],
    ask: dict,
    earlier_asks: int,
    with_student: str,
    without_student: str,
    ended_release: str | None,
) -> None:
    seen = []
    for exists, decision in ((True, with_student), (False, without_student)):
        with fresh_world() as engine:
            if exists:
                _add_named_student(engine, ask, ended_release)
            partner = sign_in(engine, "a@orga.org", TODAY)
            numbers = [ask_for_release(engine, partner, **ask) for _ in range(earlier_asks + 1)]
            after_asking = my_asks(engine, partner)
            _steward_does(engine, numbers[-1], decision)
            after_deciding = my_asks(engine, partner)
            seen.append(
                (
                    numbers,
                    after_asking.drop("asked_at").to_dicts(),
                    after_deciding.drop("asked_at").to_dicts(),
                )
            )
            assert set(after_deciding["state"]) == {"waiting"}
    assert seen[0] == seen[1]

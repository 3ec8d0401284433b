"""`guardians.language` (migration 0012): read from the guardians file as an ISO 639-1 code
in any case, refused with its file, line, column and value otherwise, and given back to the
parent it belongs to only (docs/import-format.md; ui/i18n.py uses it as the default
language of the family pages). On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select, update

from data_access.identity import guardian_language, sign_in
from data_access.importing import ImportRejected, import_files
from data_access.models import Guardian, table_of
from tests.importing.conftest import WORLD, csv
from tests.worlds import TODAY, build_small_world

GUARDIAN = table_of(Guardian)


def test_a_language_code_in_any_case_is_stored_lower_cased(engine: Engine) -> None:
    import_files(engine, WORLD)  # the guardians file says "ES"
    with engine.connect() as connection:
        stored = connection.execute(select(GUARDIAN.c.guardian_email, GUARDIAN.c.language)).all()
    assert stored == [("mom@family.org", "es")]


@pytest.mark.parametrize("cell", ["Spanish", "xx", "es-MX", "e"])
def test_a_value_that_is_not_an_iso_639_1_code_is_refused_where_it_is(
    engine: Engine, cell: str
) -> None:
    files = dict(WORLD)
    files["guardians.csv"] = csv(
        "student_id,guardian_email,guardian_name,relationship,language",
        f"S1,mom@family.org,Mom Lee,mother,{cell}",
    )
    with pytest.raises(ImportRejected) as rejection:
        import_files(engine, files)
    lines = rejection.value.report_lines()
    assert any(
        "guardians.csv:2" in line and "language" in line and cell in line and "ISO 639-1" in line
        for line in lines
    ), lines


def test_a_parent_gets_their_own_language_and_staff_none(engine: Engine) -> None:
    build_small_world(engine)
    parent = sign_in(engine, "mom@family.org", TODAY)
    assert guardian_language(engine, parent) is None  # nothing on file
    with engine.begin() as connection:
        connection.execute(
            update(GUARDIAN)
            .where(GUARDIAN.c.guardian_email == "mom@family.org")
            .values(language="es")
        )
    assert guardian_language(engine, parent) == "es"
    counselor = sign_in(engine, "counselor@d.org", TODAY)
    assert guardian_language(engine, counselor) is None

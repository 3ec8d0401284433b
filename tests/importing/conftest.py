"""Fixtures for the importer: small valid files, row counts, a database shared by a module.

`world` is a complete small import (one of every file but attendance_daily) whose rows
are easy to read; tests change one cell or one line of it. `shared_engine` is one database
per test module and backend, for the many tests whose imports are all rejected (they
write nothing, so they cannot disturb each other) or that only add rows of their own.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from data_access import schema
from data_access.engine import make_engine
from data_access.importing import import_files
from data_access.models import IMPORT_TABLES, ImportRun, table_of
from tests.conftest import _fresh_pg_database
from tests.postgres_cluster import Cluster

_names = itertools.count()


def csv(*lines: str, end: str = "\n") -> bytes:
    """A CSV file from its lines (header first)."""
    return "".join(line + end for line in lines).encode("utf-8")


WORLD: dict[str, bytes] = {
    "schools.csv": csv(
        "school_id,school_name,low_grade,high_grade",
        "HS1,First High,9,12",
        "HS2,Second High,9,12",
    ),
    "organizations.csv": csv(
        "org_id,org_name,org_type,service_types",
        "DIST,District,district,",
        "ORGA,Mentors A,community,mentoring;academic",
    ),
    "students.csv": csv(
        "student_id,first_name,last_name,school_id,grade_level,cohort_year,birth_date,gender,"
        "race_ethnicity,english_learner,disability,econ_disadvantaged",
        "S1,Ana,Lee,HS1,9,2030,2011-03-04,F,hispanic,Y,N,yes",
        "S2,Ben,Ng,HS2,12,2027,2008-05-06,M,asian,n,false,0",
    ),
    "guardians.csv": csv(
        "student_id,guardian_email,guardian_name,relationship,language",
        "S1,Mom@Family.org,Mom Lee,mother,ES",
    ),
    "enrollments.csv": csv(
        "student_id,school_id,school_year,grade_level,entry_date,exit_date,exit_code",
        "S1,HS1,2027,9,2026-08-27,,",
        "S2,HS2,2027,12,2026-08-27,,",
    ),
    "attendance.csv": csv(
        "student_id,school_id,school_year,as_of_date,days_enrolled,days_absent",
        "S1,HS1,2027,2026-10-31,40,6",
    ),
    "course_marks.csv": csv(
        "student_id,school_year,term,course_id,course_title,subject,mark,credits_attempted,"
        "credits_earned,final",
        "S1,2027,Q1,ALG1,Algebra I,math,F,0.5,0,N",
        "S2,2027,Q1,ENG12,English 12,ela,87.5,,,",
    ),
    "test_scores.csv": csv(
        "student_id,school_year,test_name,subject,proficient,performance_level,scale_score,"
        "test_date",
        "S1,2026,State,ela,N,2,480,2026-04-20",
    ),
    "fafsa.csv": csv(
        "student_id,award_year,status,status_date",
        "S2,2027,submitted,2026-11-01",
    ),
    "outcomes.csv": csv(
        "student_id,graduated,graduation_date,postsecondary_enrolled,postsecondary_start_date,"
        "institution_level,persisted_second_year",
        "S2,,,,,,",
    ),
    "services.csv": csv(
        "student_id,org_id,service_type,start_date,end_date",
        "S1,ORGA,mentoring,2026-09-05,",
    ),
    "agreements.csv": csv(
        "agreement_id,org_id,categories,effective_date,expires_date",
        "DSA-A,ORGA,notes; attendance;attendance,2025-07-01,",
    ),
    "consents.csv": csv(
        "consent_id,student_id,org_id,categories,purpose,signed_by,signer_relationship,"
        "signed_date,expires_date,revoked_date,language",
        'C1,S1,ORGA,attendance;notes,"Mentoring, weekly",Mom Lee,parent,2026-09-01,,,en',
    ),
    "users.csv": csv(
        "email,display_name,role,org_id,school_id,student_id,confidentiality_signed_date,active",
        "Admin@D.org,Admin,admin,DIST,,,2026-08-20,",
        "a@orga.org,Mentor,org_staff,ORGA,,,2026-08-20,Y",
        "c@d.org,Counselor,counselor,DIST,HS1,,2026-08-20,Y",
    ),
    "caseloads.csv": csv(
        "user_email,student_id",
        "C@D.org,S1",
    ),
}


def counts(engine: Engine) -> dict[str, int]:
    """Rows in every import table and in the import history."""
    tables = [table_of(m) for m in IMPORT_TABLES.values()] + [table_of(ImportRun)]
    with engine.connect() as connection:
        return {
            t.name: connection.execute(select(func.count()).select_from(t)).scalar_one()
            for t in tables
        }


def _sqlite(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    path = tmp_path_factory.mktemp("importing") / f"shared{next(_names)}.db"
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    return engine


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def shared_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One migrated database per module and backend, holding the `WORLD` import."""
    if request.param == "sqlite":
        engine = _sqlite(tmp_path_factory)
    else:
        cluster: Cluster = request.getfixturevalue("pg_cluster")
        engine = make_engine(_fresh_pg_database(cluster))
    import_files(engine, WORLD)
    yield engine
    engine.dispose()

"""Managing Pathwise users (`pathwise users add`, the administration page).

A user is keyed by the email their identity provider signs them in with. The checks here
are those of docs/access-rules.md and docs/import-format.md: a known role, partner roles with an existing
organisation, counselors with an existing school, student users with an existing student.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine, select
from sqlmodel import Session

from data_access.models import Organization, School, Student, User
from domain.vocabulary import ROLE_LINKS, ROLES

#: The option of `pathwise users add` that sets each link column.
LINK_OPTIONS = {"org_id": "--org", "school_id": "--school", "student_id": "--student"}


class InvalidUser(ValueError):
    """The request names an unknown role, organisation, school or student."""


@dataclass(frozen=True)
class UserRequest:
    email: str
    role: str
    display_name: str | None = None
    org_id: str | None = None
    school_id: str | None = None
    student_id: str | None = None
    confidentiality_signed_date: date | None = None
    active: bool = True


def validate_user(session: Session, request: UserRequest) -> list[str]:
    """Every problem with `request`, as sentences (empty when it can be saved)."""
    problems = []
    email = request.email.strip()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        problems.append(f"not an email address: {request.email!r}")
    if request.role not in ROLES:
        problems.append(f"unknown role {request.role!r}; roles are {', '.join(ROLES)}")
    link = ROLE_LINKS.get(request.role)  # type: ignore[call-overload]
    if link is not None and not getattr(request, link[0]):
        problems.append(f"{link[1]} needs {LINK_OPTIONS[link[0]]}")
    if request.org_id and session.get(Organization, request.org_id) is None:
        problems.append(f"no organisation with org_id {request.org_id!r}")
    if request.school_id and session.get(School, request.school_id) is None:
        problems.append(f"no school with school_id {request.school_id!r}")
    if request.student_id and session.get(Student, request.student_id) is None:
        problems.append(f"no student with student_id {request.student_id!r}")
    return problems


def save_user(connection: Connection, request: UserRequest) -> tuple[User, bool]:
    """Add or update a user inside the caller's transaction (which records the change in
    the audit log and commits: `administration.save_user_as`); returns it and whether it
    was new. Raises `InvalidUser`."""
    with Session(bind=connection) as session:
        problems = validate_user(session, request)
        if problems:
            raise InvalidUser("; ".join(problems))
        email = request.email.strip().lower()
        user = session.get(User, email)
        created = user is None
        if user is None:
            user = User(email=email, display_name=request.display_name or email, role=request.role)
        user.role = request.role
        if request.display_name:
            user.display_name = request.display_name
        user.org_id = request.org_id
        user.school_id = request.school_id
        user.student_id = request.student_id
        user.confidentiality_signed_date = request.confidentiality_signed_date
        user.active = request.active
        session.add(user)
        session.flush()
        session.refresh(user)
        session.expunge(user)
        return user, created


def list_users(engine: Engine) -> list[User]:
    with Session(engine) as session:
        return list(session.exec(select(User).order_by(User.role, User.email)).scalars())  # type: ignore[call-overload]

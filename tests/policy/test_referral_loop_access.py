"""Referral-loop figures through the policy: exact, protected, or a partner's own.

The small world (tests/worlds.py): ORGA has an active release for Ana (S1), a release for
Caro (S3) that expires today, and one for Dev (S4) signed tomorrow. Referrals to ORGA are
made for Ana, Caro and Dev; one to ORGC for Eli (S5).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import polars as pl
import pytest
from hypothesis import given
from sqlalchemy import Engine

from data_access import referrals
from data_access.identity import sign_in
from data_access.policy import AccessDenied, Principal
from data_access.referral_loop import referral_loop
from indicators.suppression import ALL
from tests.policy import test_policy_properties as properties
from tests.policy.test_policy_properties import SETTINGS, World, load, oracle, principals, worlds
from tests.worlds import TODAY, build_small_world

# The random worlds' databases (a fresh one per example, on both databases).
sqlite_template = properties.sqlite_template
fresh_database = properties.fresh_database


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    admin = sign_in(engine, "admin@d.org", TODAY)
    for student_id, org_id in [("S1", "ORGA"), ("S3", "ORGA"), ("S4", "ORGA"), ("S5", "ORGC")]:
        referrals.create_referral(engine, admin, student_id, org_id, "Help")
    accepted = referrals.referrals(engine, admin, "S1")["referral_id"][0]
    referrals.respond_to_referral(engine, who(engine, "a@orga.org"), int(accepted), "accepted")
    return engine


def who(engine: Engine, email: str) -> Principal:
    return sign_in(engine, email, TODAY)


def totals(frame: pl.DataFrame) -> dict[str, dict[str, object]]:
    return {r["org_id"]: r for r in frame.filter(pl.col("school_id") == ALL).iter_rows(named=True)}


def test_leaders_see_every_organisations_loop_exactly(world: Engine) -> None:
    shown = totals(referral_loop(world, principal=who(world, "leader@d.org")))
    orga = shown["ORGA"]
    assert (orga["made"], orga["accepted"], orga["waiting"]) == ("3", "1", "1")
    assert shown["ORGC"]["made"] == "1"


def test_counselors_viewers_and_meeting_mode_get_protected_figures(world: Engine) -> None:
    for principal in (
        who(world, "counselor@d.org"),
        who(world, "viewer@city.org"),
        who(world, "admin@d.org").in_meeting_mode(),
    ):
        shown = totals(referral_loop(world, principal=principal))
        assert shown["ORGA"]["made"] == "<10", principal.email
        assert shown["ORGA"]["waiting"] == "*", principal.email


def test_a_partner_counts_only_its_own_referrals_of_students_it_may_see(world: Engine) -> None:
    # Dev's release is signed tomorrow: ORGA may not see him, so his referral is no number.
    shown = totals(referral_loop(world, principal=who(world, "a@orga.org")))
    assert list(shown) == ["ORGA"]
    assert (shown["ORGA"]["made"], shown["ORGA"]["accepted"], shown["ORGA"]["waiting"]) == (
        "2",
        "1",
        "0",
    )


def test_a_teacher_gets_no_loop_figures(world: Engine) -> None:
    with pytest.raises(AccessDenied):
        referral_loop(world, principal=who(world, "teacher@d.org"))


@SETTINGS
@given(world=worlds())
def test_a_partners_loop_counts_exactly_its_referrals_of_students_it_may_see(
    fresh_database: Callable[[], Iterator[Engine]], world: World
) -> None:
    for engine in fresh_database():
        load(engine, world)
        for email, principal in principals(engine, world):
            if principal is None or not principal.partner:
                continue
            allowed = oracle(world, email, world.today) or {}
            expected = sum(
                1
                for r in world.referrals
                if r["org_id"] == principal.org_id and r["student_id"] in allowed
            )
            shown = referral_loop(engine, principal=principal)
            assert set(shown["org_id"]) <= {principal.org_id}, email
            made = totals(shown).get(str(principal.org_id), {}).get("made")
            assert int(str(made or 0)) == expected, email

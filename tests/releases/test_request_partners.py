"""`request_partners` (data_access/releases.py): the partners the request form offers, those
with an active agreement, each with exactly the categories a request may ask for.
World: tests/releases/release_world.py (ORGA's agreement covers attendance, notes and
tests; ORGB's expired; ORGC's covers fafsa)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from data_access.policy import AccessDenied
from data_access.releases import InvalidRequest, NewRequest, create_request, request_partners
from tests.releases.release_world import LINK_BASE, NOW, build_release_world, compose, principal


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_release_world(engine)
    return engine


def test_only_partners_with_an_active_agreement_are_offered_with_its_categories(
    world: Engine,
) -> None:
    partners = request_partners(world, principal(world, "counselor@d.org"))
    offered = {
        org: sorted(categories)
        for org, categories in partners.select("org_id", "categories").rows()
    }
    assert offered == {"ORGA": ["attendance", "notes", "tests"], "ORGC": ["fafsa"]}
    assert partners["org_name"].to_list() == sorted(partners["org_name"].to_list())
    assert partners.filter(org_id="ORGA")["service_types"].to_list() == [["mentoring"]]


def test_what_is_offered_is_what_a_request_may_ask_for(world: Engine) -> None:
    counselor = principal(world, "counselor@d.org")
    offered = request_partners(world, counselor).row(0, named=True)
    made = create_request(
        world,
        counselor,
        NewRequest("S1", offered["org_id"], tuple(offered["categories"]), "Mentoring"),
        link_base=LINK_BASE,
        compose=compose,
        mail=None,
        now=NOW,
    )
    assert made.request_id > 0
    with pytest.raises(InvalidRequest, match="does not cover grades"):
        create_request(
            world,
            counselor,
            NewRequest("S1", offered["org_id"], (*offered["categories"], "grades"), "Mentoring"),
            link_base=LINK_BASE,
            compose=compose,
            mail=None,
            now=NOW,
        )


@pytest.mark.parametrize("email", ["teacher@d.org", "a@orga.org", "viewer@city.org"])
def test_who_may_not_request_is_refused(world: Engine, email: str) -> None:
    who = principal(world, email)
    with pytest.raises(AccessDenied):
        request_partners(world, who)

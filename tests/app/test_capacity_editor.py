"""The steward's capacity editor in Administration (issue 14 part 2): the year's rows with
their open slots, added, changed and deleted through the page, a bad row refused with a
message naming the problem and no stack trace; other roles never reach it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Button

from domain.school_year import school_year_of

#: A school year the demo holds no capacity for, so the test starts from an empty table
#: and leaves the shared demo database as it found it.
YEAR = school_year_of(date.today()) + 5


def _editor(page_as: Callable[..., AppTest]) -> AppTest:
    at = page_as("administration.administration_page", "steward", admin_section="Capacity")
    assert not at.exception, at.exception
    at.number_input(key="capacity_year").set_value(YEAR).run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, label: str) -> Button:
    return next(b for b in at.button if b.label == label)


def partner_name(at: AppTest, org_id: object) -> str:
    """The partner's name as the form's partner list shows it."""
    box = next(s for s in at.selectbox if s.label == "Partner")
    return str(box.format_func(org_id))


def _table(at: AppTest) -> list[dict[str, object]]:
    frames = [d.value for d in at.dataframe]
    return frames[0].to_dict("records") if frames else []


def test_the_steward_adds_changes_and_deletes_capacity_on_the_page(
    page_as: Callable[..., AppTest],
) -> None:
    at = _editor(page_as)
    assert any("No partner capacity recorded" in c.value for c in at.caption)
    partner = next(s for s in at.selectbox if s.label == "Partner").value  # the first one
    next(s for s in at.selectbox if s.label == "School").set_value("Any school")
    next(s for s in at.selectbox if s.label == "Service type").set_value("mentoring")
    next(n for n in at.number_input if n.label == "Slots").set_value(30)
    _button(at, "Save capacity").click().run()
    assert not at.exception, at.exception
    assert "Capacity added." in [s.value for s in at.success]
    (row,) = _table(at)
    assert (row["school"], row["service_type"], row["slots"]) == ("Any school", "mentoring", 30)
    assert row["org_name"] == partner_name(at, partner)

    next(n for n in at.number_input if n.label == "Slots").set_value(12)
    next(c for c in at.checkbox if c.label == "Takes referrals").uncheck()
    _button(at, "Save capacity").click().run()
    assert "Capacity changed." in [s.value for s in at.success]
    (row,) = _table(at)
    assert (row["slots"], row["accepting_referrals"]) == (12, False)

    _button(at, "Delete capacity").click().run()
    assert not at.exception, at.exception
    assert "Capacity deleted." in [s.value for s in at.success]
    assert _table(at) == []


def test_other_roles_do_not_reach_the_capacity_editor(page_as: Callable[..., AppTest]) -> None:
    for who in ("leader", "counselor.hs01"):
        at = page_as("administration.administration_page", who, admin_section="Capacity")
        assert not at.exception, at.exception
        assert any("Only data stewards" in e.value for e in at.error)
        assert not [b for b in at.button if b.label == "Save capacity"]

"""The Administration sections for mapped files and the partner's upload (issue 15)."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest


def test_stewards_see_the_mappings_and_the_matching_review(
    page_as: Callable[..., AppTest],
) -> None:
    at = page_as("administration.administration_page", "steward", admin_section="Mappings")
    assert not at.exception, at.exception
    assert "Create or change a mapping" in [s.value for s in at.subheader]
    at = page_as("administration.administration_page", "steward", admin_section="Matching review")
    assert not at.exception, at.exception
    assert "Matching review (0 open)" in [s.value for s in at.subheader]


def test_the_service_upload_is_for_partner_staff_and_stewards_only(
    page_as: Callable[..., AppTest],
) -> None:
    at = page_as("mapped_files.partner_upload_page", "staff.org02")
    assert not at.exception, at.exception
    assert not at.error
    assert any("No saved mapping yet" in c.value for c in at.caption)
    at = page_as("mapped_files.partner_upload_page", "counselor.hs01")
    assert any("Only data stewards and partner staff" in e.value for e in at.error)

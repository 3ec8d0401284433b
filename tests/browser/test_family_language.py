"""The family pages in Spanish in a real browser (issue 16 part 2): a browser that asks for
Spanish gets the Spanish sign-in page; the parent's My record follows the language switch
and keeps it while they move around; screenshot for the README."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.browser.conftest import screenshot, wait_for_app


def test_a_parent_reads_my_record_in_spanish(browser: Browser, app_url: str) -> None:
    context = browser.new_context(locale="es-MX", viewport={"width": 1400, "height": 2200})
    page = context.new_page()
    page.goto(app_url)
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Inicie sesión en Pathwise")).to_be_visible()
    page.get_by_role("button", name=re.compile("Iniciar sesión con")).click()
    page.wait_for_url(re.compile(r"/oauth2/authorize"), wait_until="domcontentloaded")
    page.get_by_role("button", name=re.compile(r"^(Authorize as )?parent$")).first.click()
    page.wait_for_url(re.compile(re.escape(app_url)))
    wait_for_app(page)
    # The demo's parent has English on file, which wins over the browser's language. The
    # log is the page's last section: on a loaded machine it can take more than expect's
    # default 5 s to arrive after the sign-in's rerun (the same wait as `wait_for_app`).
    expect(page.get_by_text("Who has seen this record")).to_be_visible(timeout=30000)

    page.get_by_text("Español", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_text("Quién ha visto este expediente")).to_be_visible(timeout=30000)
    expect(page.get_by_text("Who has seen this record")).to_have_count(0)
    expect(page.get_by_role("link", name="Mi expediente")).to_be_visible()
    screenshot(page, "my-record-es")

    page.get_by_role("link", name="Mi expediente").click()  # another run of the session
    wait_for_app(page)
    expect(page.get_by_text("Quién ha visto este expediente")).to_be_visible(timeout=30000)
    page.get_by_text("English", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_text("Who has seen this record")).to_be_visible(timeout=30000)
    context.close()

"""A delegate registers in a real browser, lands on their page and downloads their badge."""

import re

from pdf_tools import A6_POINTS, page_sizes, qr_codes


def _fill_form(page, meeting, name: str, email: str, mode: str) -> None:
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Organisation or entity you represent").fill("ROCB Europe")
    page.get_by_label("Country").select_option("BE")
    page.get_by_label("Entity type").select_option(label=meeting.entity_types[0].name)
    page.get_by_label("Region").select_option(label="Europe")
    page.get_by_label("Online" if mode == "online" else "In person, at the venue").check()
    page.get_by_label("I agree").check()


def test_delegate_registers_in_person_and_downloads_the_badge(live_server, page, make_session):
    meeting = make_session()
    page.goto(live_server + "/")
    page.get_by_role("link", name=f"Register for {meeting.title}").click()

    page.get_by_role("button", name="Register").click()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_text("Enter your full name.").first.is_visible()

    _fill_form(page, meeting, "Łukasz Kowalski", "lukasz@example.org", "in_person")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(re.compile(r"/me/[A-Za-z0-9_-]+$"))
    assert page.get_by_role("heading", name="Łukasz Kowalski").is_visible()
    assert page.locator("svg.qr").is_visible()

    badge_link = page.get_by_role("link", name=re.compile("Download your badge")).get_attribute("href")
    response = page.request.get(live_server + badge_link)
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    assert page_sizes(pdf) == [A6_POINTS]
    assert len(qr_codes(pdf)) == 1


def test_delegate_registers_online_on_a_phone(live_server, browser, make_session):
    meeting = make_session()
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/sessions/{meeting.slug}/register")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
        _fill_form(page, meeting, "فاطمة الزهراني", "fatima@example.org", "online")
        page.get_by_role("button", name="Register").click()
        page.wait_for_url(re.compile(r"/me/"))
        assert page.get_by_role("link", name="Join the meeting online").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()


def test_a_delegate_registers_in_french_after_choosing_the_language(live_server, page, make_session):
    meeting = make_session()
    page.goto(f"{live_server}/sessions/{meeting.slug}/register")
    page.get_by_role("button", name="Français").click()
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("button", name="S’inscrire").click()
    assert page.get_by_text("Indiquez votre nom complet.").first.is_visible()
    page.get_by_label("Nom complet").fill("Hélène Lefèvre")
    page.get_by_label("Courriel").fill("helene@example.org")
    page.get_by_label("Organisation ou entité que vous représentez").fill("CRF Europe")
    page.get_by_label("Pays").select_option("FR")
    page.get_by_label("Type d’entité").select_option(label=meeting.entity_types[0].name)
    page.get_by_label("Région").select_option(label="Europe")
    page.get_by_label("En ligne").check()
    page.get_by_label("J’accepte").check()
    page.get_by_role("button", name="S’inscrire").click()
    page.wait_for_url(re.compile(r"/me/"))
    assert page.get_by_role("heading", name="Votre badge").is_visible()
    assert page.get_by_role("link", name="Rejoindre la réunion en ligne").is_visible()
    # Remembered: the next page is French too.
    page.goto(live_server + "/")
    assert page.get_by_role("heading", name="Réunions ouvertes aux inscriptions").is_visible()

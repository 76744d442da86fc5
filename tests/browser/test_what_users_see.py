"""In Chromium, what a person sees (issue « What users trip on »): a mediation site finds how to
join from the home page and after confirming its e-mail; each role's main page is one click from
the header; the site's bank page shows members the masked IBAN and no form; « Vérifier mon pass »
says the situation of a pass in every state."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from aptic_catalog.services import ensure_referential_loaded
from mediators.qualification.models import Site
from passnum.passes.models import Pass, PassState
from tests.browser.support import DEMO_ROLES, demo_account

pytestmark = pytest.mark.browser

NEW_PASSWORD = "une-phrase-de-passe-neuve-2026"  # noqa: S105 - a test account's password

# Each demo role's main page: the header link that opens it, and where it leads.
MAIN_PAGES = {
    "operateur": ("Console opérateur", "/admin/"),
    "commanditaire": ("Espace commanditaire", "/sponsor/"),
    "finances": ("Espace commanditaire", "/sponsor/"),
    "cofinanceur": ("Espace cofinanceur", "/financeur/"),
    "instructeur": ("Espace commanditaire", "/sponsor/"),
    "entreprise": ("Mes demandes de subvention", "/subventions/"),
    "prescripteur": ("Guichet", "/counter/"),
    "guichet": ("Guichet", "/counter/"),
    "site": ("Espace de la structure", "/site/"),
    "mediateur": ("Espace de la structure", "/site/"),
}


def main_menu(page):
    return page.get_by_role("navigation", name="Menu principal")


def test_a_mediation_site_finds_how_to_join_from_home_and_after_confirming_its_email(page, mailoutbox):
    page.goto("/")
    page.get_by_role("link", name="Inscrire ma structure de médiation").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("account_signup"))))
    page.locator("main input[name=email]").fill("mediatrice@tiers-lieu.example")
    page.locator("main input[name=password1]").fill(NEW_PASSWORD)
    page.locator("main input[name=password2]").fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert mailoutbox, "aucun e-mail de confirmation envoyé"
    link = re.search(r"/compte/confirm-email/[^\s\"'<>]+", mailoutbox[-1].body).group(0)

    # The link of the e-mail, then « Confirmer »: the new account lands where it signs its site up.
    page.goto(link)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inscrire ma structure")

    # Even without the sign-up's way back, « Mon espace » of an account with no organisation
    # offers the sign-up of a site first, not only « ask an administrator ».
    page.goto(reverse("dashboard"))
    page.get_by_role("link", name="Inscrire ma structure de médiation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inscrire ma structure")

    # A signed-in visitor of the home page goes straight to the site's sign-up.
    page.goto("/")
    page.get_by_role("link", name="Inscrire ma structure de médiation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inscrire ma structure")


def test_each_roles_main_page_is_one_click_from_the_header(demo, login_as):
    assert set(MAIN_PAGES) == set(DEMO_ROLES), "un rôle de la démo n'a pas sa page principale ici"
    for role, (name, path) in MAIN_PAGES.items():
        page = login_as(role)
        page.goto("/verifier/")  # any page: the header is the same everywhere
        link = main_menu(page).get_by_role("link", name=name, exact=True)
        expect(link).to_have_attribute("href", path)
        if path == "/admin/":
            continue  # the console asks the operator's second factor first (tested with the admin)
        link.click()
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
        expect(page.get_by_role("heading", level=1)).not_to_have_text(re.compile("Accès refusé|introuvable"))


def test_the_bank_page_shows_members_the_masked_iban_and_only_admins_a_form(demo, login_as):
    site = Site.objects.get(organisation__name=demo_account(demo, "site")["organisation"])
    account = site.organisation.payee_accounts.order_by("-version").first()
    masked = f"{account.iban[:4]} •••• •••• {account.iban[-4:]}"

    member = login_as("mediateur")
    member.goto(reverse("mediators:bank"))
    main = member.locator("main")
    expect(main).to_contain_text(masked)
    expect(main).to_contain_text("Seul un administrateur de la structure peut enregistrer ou changer le compte")
    expect(main.locator("form")).to_have_count(0)
    expect(main.locator("input[name=iban]")).to_have_count(0)
    assert account.iban not in main.inner_text()

    admin = login_as("site")
    admin.goto(reverse("mediators:bank"))
    expect(admin.get_by_role("button", name="Enregistrer le compte")).to_be_visible()
    expect(admin.locator("main input[name=iban]")).to_have_value(account.iban)


def test_check_my_pass_says_the_situation_of_a_pass_in_every_state(page):
    from tests.mediators.factories import pass_in_each_situation, redeemable_booklet, redeeming_site

    ensure_referential_loaded()
    situations = pass_in_each_situation(redeeming_site())
    assert {p.state for p in situations.values()} == set(PassState.values)
    # Active but past its last day (the nightly expiry has not run yet): expired all the same.
    late = redeemable_booklet().passes.first()
    Pass.objects.filter(pk=late.pk).update(expires_on=timezone.localdate() - datetime.timedelta(days=1))
    situations["past_its_last_day"] = late
    not_yet = "Ce pass n'est pas encore activé : il le sera quand un prescripteur vous remettra le carnet."
    expected = {
        "paid_not_handed_out": not_yet,
        "unpaid_not_handed_out": not_yet,
        "handed_out": "Ce pass est utilisable.",
        "redeemed": "Ce pass a déjà été utilisé.",
        "expired": "Ce pass a expiré : sa date de validité est passée.",
        "cancelled": "Ce pass a été annulé (carnet déclaré perdu ou volé).",
        "past_its_last_day": "Ce pass a expiré : sa date de validité est passée.",
    }
    for situation, pass_ in situations.items():
        page.goto(f"{reverse('beneficiaries:verify')}?code={pass_.code}")
        result = page.locator(".verifier-result")
        expect(result).to_contain_text(expected[situation])

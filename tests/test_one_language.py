"""One language per page: a browser asking for English never gets English menus around French pages.

Until every template and message is translated, the platform serves French only. Every page of the
accessibility walk that takes no parameter is requested, anonymously and by each demo role, with an
English browser (``Accept-Language`` and the language cookie): the page must declare ``lang="fr"``,
show none of the English catalogue's translations, and write its dates in French.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from passnum import demo as demo_module
from tests.browser.support import ANONYMOUS, DEMO_ROLES, demo_user
from tests.browser.test_accessibility import project_pages

ENGLISH_MONTHS = re.compile(
    r"\b\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December)\b"
)


def english_translations():
    """The English strings of the catalogue that differ from their French source (« Log out »…)."""
    catalogue = (Path(settings.BASE_DIR) / "locale/en/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    pairs = re.findall(r'^msgid "(.+)"\nmsgstr "(.+)"$', catalogue, flags=re.MULTILINE)
    # Words shorter than a menu label ("Home") would match inside French text by chance.
    return {english for french, english in pairs if english != french and len(english) >= 6}


@pytest.mark.django_db
def test_every_page_is_in_one_language_for_an_english_browser(client):
    demo = demo_module.build()
    english = english_translations()
    assert "Log out" in english, "the catalogue read is the project's English one"
    simple, _tenant, _public, _problems = project_pages()
    mixed = []
    for role in [ANONYMOUS, *DEMO_ROLES]:
        client.logout()
        if role != ANONYMOUS:
            client.force_login(demo_user(demo, role))
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        for name, url in simple:
            response = client.get(url, headers={"accept-language": "en-GB,en;q=0.9"}, follow=True)
            if "text/html" not in response.headers.get("Content-Type", ""):
                continue
            body = response.content.decode()
            if '<html lang="fr">' not in body:
                mixed.append(f'{role} {name}: la page ne déclare pas lang="fr"')
            found = sorted(text for text in english if f">{text}<" in body or f'"{text}"' in body)
            if found:
                mixed.append(f"{role} {name}: textes anglais {found}")
            if ENGLISH_MONTHS.search(body):
                mixed.append(f"{role} {name}: date en anglais « {ENGLISH_MONTHS.search(body).group(0)} »")
    assert not mixed, "Pages à deux langues :\n" + "\n".join(mixed)


@pytest.mark.django_db
def test_the_referential_page_dates_its_update_in_french(client):
    demo_module.build()
    response = client.get(reverse("aptic_catalog:referential"), headers={"accept-language": "en"})
    assert response.status_code == 200
    body = response.content.decode()
    assert not ENGLISH_MONTHS.search(body)
    french_months = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
    assert re.search(rf"mise à jour le \d{{1,2}} ({french_months}) \d{{4}}", body)

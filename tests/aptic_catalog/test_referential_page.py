import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from aptic_catalog.models import Service
from aptic_catalog.selectors import active_services, referential_tree
from aptic_catalog.services import ensure_referential_loaded, import_referential
from tests.aptic_catalog.helpers import as_csv, bundled_lines, shown_codes

# WhiteNoise warns when STATIC_ROOT was never collected, which is the case in a fresh checkout.

SERVICE_1 = "Composantes et facettes de l’identité numérique"
SERVICE_4 = "Panorama des usages numériques des adolescents"


@pytest.mark.django_db
def test_public_page_lists_the_referential(client):
    version = ensure_referential_loaded()

    response = client.get(reverse("aptic_catalog:referential"))

    assert response.status_code == 200
    assertContains(response, "<h1>", count=1)
    assertContains(response, "<h2 ", count=3)
    assertContains(response, "<h3>", count=9)
    assertContains(response, 'class="service-code"', count=129)
    assertContains(response, SERVICE_1)
    assertContains(response, f"Version {version.number} du référentiel")
    assertContains(response, '<label for="referential-q">')


@pytest.mark.django_db
def test_public_page_filters_titles_with_q(client):
    ensure_referential_loaded()

    response = client.get(reverse("aptic_catalog:referential"), {"q": "adolescents"})

    assert response.status_code == 200
    assertContains(response, SERVICE_4)
    assertNotContains(response, SERVICE_1)
    assertContains(response, "1 service correspond à « adolescents »")
    assert shown_codes(response.context["levels"]) == [4]


@pytest.mark.django_db
def test_search_ignores_accents_and_case_and_accepts_a_code(client):
    ensure_referential_loaded()

    by_word = client.get(reverse("aptic_catalog:referential"), {"q": "IDENTITE NUMERIQUE"})
    by_code = client.get(reverse("aptic_catalog:referential"), {"q": "1"})

    assertContains(by_word, SERVICE_1)
    assertContains(by_code, SERVICE_1)
    assert by_code.context["result_count"] == 1


@pytest.mark.django_db
def test_search_without_match_says_so(client):
    ensure_referential_loaded()

    response = client.get(reverse("aptic_catalog:referential"), {"q": "zzzz"})

    assertContains(response, "Aucun service ne correspond à « zzzz »")
    assertContains(response, 'class="service-code"', count=0)


@pytest.mark.django_db
def test_public_page_before_any_import(client):
    response = client.get(reverse("aptic_catalog:referential"))

    assert response.status_code == 200
    assertContains(response, "pas encore chargé")


@pytest.mark.django_db
def test_referential_tree_query_count_is_constant(django_assert_num_queries):
    import_referential(as_csv(bundled_lines()[:4]), source_name="small.csv")
    with django_assert_num_queries(3):
        small = referential_tree()
    assert sum(len(sub.service_list) for level in small for sub in level.subcategory_list) == 3

    ensure_referential_loaded()
    import_referential(as_csv(bundled_lines()), source_name="full.csv")
    with django_assert_num_queries(3):
        full = referential_tree()
        codes = shown_codes(full)
        themes = {s.theme.title for level in full for sub in level.subcategory_list for s in sub.service_list}
    assert codes == list(range(1, 130))
    assert len(themes) == 8


@pytest.mark.django_db
def test_inactive_services_are_not_shown():
    ensure_referential_loaded()
    Service.objects.filter(code=1).update(is_active=False)

    codes = shown_codes(referential_tree())

    assert 1 not in codes
    assert len(codes) == 128
    assert active_services().count() == 128
    assert active_services().first().code == 2

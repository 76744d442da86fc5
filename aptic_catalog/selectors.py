"""Reading the #APTIC referential."""

import unicodedata

from django.db.models import Prefetch

from aptic_catalog.models import Level, ReferentialVersion, Service, Subcategory


def current_version():
    """The latest imported version, or None before the first import."""
    return ReferentialVersion.objects.select_related("imported_by").order_by("-number").first()


def active_services():
    """Services offered today, in code order, with their sub-category, level and theme."""
    return Service.objects.filter(is_active=True).select_related("subcategory__level", "theme").order_by("code")


def _folded(text):
    """Lower case, without accents and with plain apostrophes: "Démarches" matches "demarches"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def service_matches(service, query):
    folded = _folded(query.strip())
    return not folded or folded in _folded(service.title) or folded == str(service.code)


def referential_tree(query=""):
    """Levels → ``subcategory_list`` → ``service_list`` (active services only), in 3 queries.

    With ``query``, only the services whose title contains it (accents and case ignored) or
    whose code is it are kept, and the emptied sub-categories and levels are left out. The
    matching is done in Python: the referential is small (about 130 services) and this works
    the same on SQLite and PostgreSQL, without the unaccent extension.
    """
    services = Service.objects.filter(is_active=True).select_related("theme").order_by("code")
    subcategories = Subcategory.objects.order_by("code").prefetch_related(
        Prefetch("services", queryset=services, to_attr="service_list")
    )
    levels = list(
        Level.objects.order_by("number").prefetch_related(
            Prefetch("subcategories", queryset=subcategories, to_attr="subcategory_list")
        )
    )
    if not query.strip():
        return levels
    kept_levels = []
    for level in levels:
        for subcategory in level.subcategory_list:
            subcategory.service_list = [s for s in subcategory.service_list if service_matches(s, query)]
        level.subcategory_list = [s for s in level.subcategory_list if s.service_list]
        if level.subcategory_list:
            kept_levels.append(level)
    return kept_levels


def count_services(levels):
    return sum(len(subcategory.service_list) for level in levels for subcategory in level.subcategory_list)


def services_with_hierarchy(*, service_ids) -> dict[int, Service]:
    """``{id: service}`` with its sub-category and level loaded (one query): the labels of reports."""
    return {s.pk: s for s in Service.objects.filter(pk__in=list(service_ids)).select_related("subcategory__level")}

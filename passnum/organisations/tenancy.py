"""The one tenancy mechanism of Passnum.

1. ``CurrentOrganisationMiddleware`` resolves, once per request, the organisation the user acts
   for (``request.organisation``) and their membership in it (``request.membership``).
2. Every model holding an organisation's data declares ``tenant_field`` (the lookup path to its
   owning organisation, e.g. ``"organisation"`` or ``"site__organisation"``) and uses
   ``TenantQuerySet``; ``for_organisation(org)`` is the only way views, API endpoints, exports
   and tasks read such data.
3. ``get_for_organisation_or_404`` fetches one object through that filter: an object of another
   organisation is simply not found, so it answers 404 — never 403, never data.
4. Routes taking an object id are declared with ``tenant_path(..., model=...)`` (or
   ``public_path(..., reason=...)`` for codes and tokens meant for anyone holding them); the
   cross-organisation test walks every URL pattern and refuses any undeclared one.
"""

from django.http import Http404
from django.urls import path


class TenantQuerySet:
    """Mixin for the querysets of tenant models (combine with ``models.QuerySet``)."""

    def for_organisation(self, organisation):
        if organisation is None:
            return self.none()
        if self.model.tenant_field == "pk":  # the organisation itself
            return self.filter(pk=organisation.pk)
        return self.filter(**{self.model.tenant_field: organisation})


def get_for_organisation_or_404(queryset, organisation, **lookup):
    try:
        return queryset.for_organisation(organisation).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Cet élément n'existe pas ou n'appartient pas à votre organisation.") from exc


def tenant_path(route, view, *, name, model, lookups=None):
    """A route whose parameters designate an object of ``model`` owned by an organisation.

    ``lookups`` maps each URL parameter to the model field it matches (default: ``pk``).
    """
    pattern = path(route, view, name=name)
    pattern.tenant_model = model
    pattern.tenant_lookups = lookups or {"pk": "pk"}
    return pattern


def public_path(route, view, *, name, reason):
    """A route with a parameter that is meant for anyone who holds it (a code, a token)."""
    pattern = path(route, view, name=name)
    pattern.tenant_public = reason
    return pattern

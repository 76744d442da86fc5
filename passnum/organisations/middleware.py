from django.contrib import messages

from passnum.organisations import selectors

SESSION_KEY = "passnum_organisation_id"


class CurrentOrganisationMiddleware:
    """Resolves once per request the organisation the user acts for.

    Sets ``request.memberships`` (the user's active memberships), ``request.membership`` and
    ``request.organisation`` (``None`` for anonymous users and users without organisation).
    A user removed from an organisation mid-session falls back to another of their
    organisations, with a message, on their next request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.memberships = []
        request.membership = None
        request.organisation = None
        if request.user.is_authenticated:
            self.resolve(request)
        return self.get_response(request)

    def resolve(self, request):
        memberships = selectors.active_memberships(request.user)
        request.memberships = memberships
        wanted = request.session.get(SESSION_KEY)
        chosen = next((m for m in memberships if m.organisation_id == wanted), None)
        if wanted is not None and chosen is None:
            messages.warning(
                request,
                "Vous n'avez plus accès à l'organisation pour laquelle vous agissiez. "
                "Choisissez une autre organisation.",
            )
            request.session.pop(SESSION_KEY, None)
        if chosen is None and memberships:
            chosen = memberships[0]
            request.session[SESSION_KEY] = chosen.organisation_id
        if chosen is not None:
            request.membership = chosen
            request.organisation = chosen.organisation

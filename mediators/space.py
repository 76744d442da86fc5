"""What every page of the site space (/site/) shares: the site of the current organisation,
the admin-only guard and how a domain error is shown on a form.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from mediators.qualification import services
from passnum.errors import DomainError
from passnum.organisations.decorators import organisation_required
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.services import check_is_admin

PAGE_SIZE = 20


def site_required(view):
    """``organisation_required(kinds=[SITE])``; a user without organisation is offered the sign-up
    of their structure instead of a dead end."""
    protected = organisation_required(kinds=[OrganisationKind.SITE])(view)

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.organisation is None:
            return render(request, "mediators/no_site.html", status=403)
        return protected(request, *args, **kwargs)

    return wrapper


def current_site(request):
    return services.get_or_create_site(request.organisation)


def show_error(form, error):
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def require_admin(request, redirect_to):
    try:
        check_is_admin(request.membership)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(redirect_to)
    return None

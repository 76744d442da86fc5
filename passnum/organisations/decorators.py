from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render


def organisation_required(view=None, *, kinds=None):
    """The view needs a logged-in user acting for an organisation (of one of ``kinds``).

    A user with no organisation gets a page that explains what to do, never an error.
    """

    def decorator(view_func):
        @login_required
        @wraps(view_func)
        def wrapper(request, *args, **kwargs):
            if request.organisation is None:
                return render(request, "organisations/no_organisation.html", status=403)
            if kinds and request.organisation.kind not in kinds:
                raise PermissionDenied("Cet espace est réservé à un autre type d'organisation.")
            return view_func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator

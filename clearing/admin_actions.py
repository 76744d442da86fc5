"""The one way a state change is made from the clearing consoles (statements, payment batches,
transfers): exactly one object chosen, a confirmation page that changes nothing (with a form when
the change needs input: a reason, a bank code, a file), then, re-posted with ``confirm=yes``, the
service call; a refusal is shown, never half-applied."""

from django.contrib import messages
from django.shortcuts import render

from passnum.errors import DomainError

CONFIRM = "confirm"


def confirm_then_act(
    modeladmin,
    request,
    queryset,
    *,
    act,
    title,
    intro,
    button,
    form_class=None,
    error_field=None,
    multipart=False,
    noun="élément",
):
    """``act(obj, cleaned_data)`` runs the service and returns the success message. ``title`` and
    ``intro`` are texts or functions of the object. A ``DomainError`` is shown on ``error_field`` of
    the form (the page is shown again) or, without it, as an error message."""
    if queryset.count() != 1:
        modeladmin.message_user(request, f"Choisissez un seul {noun} à la fois.", messages.ERROR)
        return None
    obj = queryset.get()
    confirmed = request.POST.get(CONFIRM) == "yes"
    form = None
    if form_class is not None:
        form = form_class(request.POST if confirmed else None, request.FILES or None) if confirmed else form_class()
    if confirmed and (form is None or form.is_valid()):
        try:
            done = act(obj, form.cleaned_data if form is not None else {})
        except DomainError as error:
            if form is None or error_field is None:
                modeladmin.message_user(request, error.message, messages.ERROR)
                return None
            form.add_error(error_field, error.message)
        else:
            modeladmin.message_user(request, done, messages.SUCCESS)
            return None
    return render(
        request,
        "admin/clearing/confirm_action.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title(obj) if callable(title) else title,
            "intro": intro(obj) if callable(intro) else intro,
            "action": request.POST["action"],
            "objects": [obj],
            "form": form,
            "button": button,
            "multipart": multipart,
            "opts": modeladmin.model._meta,
        },
    )

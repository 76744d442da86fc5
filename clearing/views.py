"""The site's statements (/site/releves/): the list, what the next statement holds so far, and
each statement's detail and PDF. Another organisation's statement answers 404."""

from django.http import Http404
from django.shortcuts import render

from clearing import selectors
from mediators.qualification.selectors import site_of
from passnum.organisations.decorators import organisation_required
from passnum.organisations.enums import OrganisationKind
from passnum.passes.downloads import file_response

site_required = organisation_required(kinds=[OrganisationKind.SITE])


@site_required
def statements(request):
    site = site_of(request.organisation)
    return render(
        request,
        "clearing/statements.html",
        {
            "statements": list(selectors.statements_of(request.organisation)),
            "pending": selectors.pending_of(site=site) if site is not None else None,
        },
    )


@site_required
def statement_detail(request, number):
    statement = selectors.statement_of(request.organisation, number=number)
    return render(
        request,
        "clearing/statement_detail.html",
        {
            "statement": statement,
            "groups": selectors.statement_groups(statement=statement),
            "adjustments": list(selectors.statement_adjustments(statement=statement)),
            "status_changes": list(statement.status_changes.all()),
        },
    )


@site_required
def statement_pdf(request, number):
    statement = selectors.statement_of(request.organisation, number=number)
    if not statement.pdf:
        raise Http404("Le PDF de ce relevé est en cours de préparation : réessayez dans quelques minutes.")
    return file_response(statement.pdf, f"{statement.number}.pdf")

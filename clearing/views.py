"""The site's statements (/site/releves/): the list, what the next statement holds so far, and
each statement's detail and PDF. Another organisation's statement answers 404."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from clearing import selectors, services
from clearing.payments import selectors as payment_selectors
from mediators.qualification.selectors import site_of
from passnum.audit.services import record_download
from passnum.organisations.decorators import organisation_required
from passnum.organisations.enums import OrganisationKind, Role
from passnum.passes.downloads import file_response

site_required = organisation_required(kinds=[OrganisationKind.SITE])


def can_manage_money(request):
    return request.membership is not None and request.membership.role in (Role.ADMIN, Role.FINANCE)


@site_required
def statements(request):
    site = site_of(request.organisation)
    statements = list(selectors.statements_of(request.organisation))
    # The latest transfer of each statement: a rejected one shows the bank's reason.
    transfers = payment_selectors.last_lines_of_statements(organisation=request.organisation)
    for statement in statements:
        statement.transfer = transfers.get(statement.pk)
    return render(
        request,
        "clearing/statements.html",
        {
            "statements": statements,
            "pending": selectors.pending_of(site=site) if site is not None else None,
            "invoices": list(selectors.subscription_invoices_of(request.organisation)),
            "netting_enabled": site is not None and selectors.nets_subscription(site=site),
            "can_choose_netting": site is not None and can_manage_money(request),
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
    record_download(
        request=request, document=statement, organisation=request.organisation, file_name=f"{statement.number}.pdf"
    )
    return file_response(statement.pdf, f"{statement.number}.pdf")


@site_required
def subscription_invoice_pdf(request, number):
    invoice = selectors.subscription_invoice_of(request.organisation, number=number)
    if not invoice.pdf:
        raise Http404("Le PDF de cette facture est en cours de préparation : réessayez dans quelques minutes.")
    record_download(
        request=request, document=invoice, organisation=request.organisation, file_name=f"{invoice.number}.pdf"
    )
    return file_response(invoice.pdf, f"{invoice.number}.pdf")


@site_required
def subscription_netting(request):
    """The site's admin or finance member chooses how the subscription is paid (POST; the choice
    is shown on the statements page, where a GET leads)."""
    if request.method != "POST":
        return redirect("clearing:statements")
    site = site_of(request.organisation)
    if site is None or not can_manage_money(request):
        messages.error(request, "Seuls l'administrateur et les membres « finances » de la structure peuvent choisir.")
        return redirect("clearing:statements")
    netting = services.set_subscription_netting(
        site=site, enabled=request.POST.get("enabled") == "1", by=request.user, request=request
    )
    messages.success(
        request,
        "L'abonnement sera déduit de votre prochain relevé."
        if netting.enabled
        else "L'abonnement ne sera plus déduit : il se règle par virement.",
    )
    return redirect("clearing:statements")

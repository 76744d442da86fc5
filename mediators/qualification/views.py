"""The site space's qualification pages (/site/): sign-up, dashboard, identity, questionnaire,
charter, documents, bank account, and filing the application.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header

from clearing.payees.selectors import current_payee_account
from clearing.payees.services import set_payee_account
from mediators.qualification import forms, selectors, services
from mediators.qualification.models import QualificationStatus, SchemeSettings, Sector, SupportingDocument
from mediators.space import current_site, require_admin, show_error, site_required
from passnum.audit.services import record_download
from passnum.errors import DomainError
from passnum.organisations.middleware import SESSION_KEY
from passnum.organisations.tenancy import get_for_organisation_or_404
from passnum.passes.downloads import never_stored


@login_required
def register(request):
    """« Inscrire ma structure »: creates the organisation (the user is its administrator) and
    opens its application."""
    form = forms.RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.register_site(user=request.user, request=request, **form.cleaned_data)
        except DomainError as error:
            show_error(form, error)
        else:
            request.session[SESSION_KEY] = site.organisation_id
            messages.success(request, f"« {site} » est inscrite. Complétez maintenant votre dossier de qualification.")
            return redirect("mediators:dashboard")
    return render(request, "mediators/register.html", {"form": form})


@site_required
def dashboard(request):
    site = current_site(request)
    missing = selectors.missing_steps(site)
    return render(
        request,
        "mediators/dashboard.html",
        {
            "site": site,
            "missing": missing,
            "can_submit": site.status in (QualificationStatus.DRAFT, QualificationStatus.CHANGES_REQUESTED)
            and not missing,
            "subscription": selectors.subscription_state(site),
            "redeem": selectors.can_redeem(site),
            "history": site.status_changes.select_related("actor")[:10],
            "payee": current_payee_account(organisation=site.organisation),
            "counts": {
                "points": site.points.filter(is_active=True).count(),
                "catalogue": site.catalogue.filter(is_active=True).count(),
                "documents": site.documents.count(),
                "workshops": site.workshops.upcoming().count(),
            },
        },
    )


@site_required
def identity(request):
    site = current_site(request)
    initial = {
        "legal_form": site.legal_form,
        "sector": site.sector,
        "presentation": site.presentation,
        "website": site.website,
        "audiences": list(site.audience_links.values_list("audience", flat=True)),
    }
    form = forms.IdentityForm(request.POST or None, initial=initial)
    is_admin = request.membership is not None and request.membership.is_admin
    if not is_admin:
        # The legal form and the sector are the structure's identity: its administrator sets them.
        for name in ("legal_form", "sector"):
            form.fields[name].disabled = True
            form.fields[name].help_text = "Seul un administrateur de la structure peut modifier ce champ."
    if request.method == "POST" and form.is_valid():
        try:
            services.update_identity(site=site, by=request.user, request=request, **form.cleaned_data)
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(request, "L'identité de la structure est enregistrée.")
            return redirect("mediators:dashboard")
    return render(request, "mediators/identity.html", {"form": form, "site": site, "is_admin": is_admin})


@site_required
def organisation_edit(request):
    """The administrator changes the name, SIRET, head-office address or contact e-mail."""
    denied = require_admin(request, "mediators:identity")
    if denied:
        return denied
    site = current_site(request)
    organisation = site.organisation
    initial = {field: getattr(organisation, field) for field in forms.OrganisationIdentityForm.base_fields}
    form = forms.OrganisationIdentityForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_organisation_identity(site=site, by=request.user, request=request, **form.cleaned_data)
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(request, "Le nom, le SIRET et l'adresse de la structure sont enregistrés.")
            return redirect("mediators:identity")
    return render(
        request,
        "mediators/form_page.html",
        {
            "form": form,
            "title": "Nom, SIRET et adresse de la structure",
            "intro": "Le nouveau SIRET est vérifié comme à l'inscription ; chaque modification est gardée au journal.",
            "submit_label": "Enregistrer",
            "back_url": reverse("mediators:identity"),
        },
    )


@site_required
def questionnaire(request):
    site = current_site(request)
    questions = list(selectors.active_questions())
    form = forms.QuestionnaireForm(
        request.POST or None, questions=questions, initial_answers=selectors.answers_of(site)
    )
    locked = site.status not in (QualificationStatus.DRAFT, QualificationStatus.CHANGES_REQUESTED)
    if request.method == "POST" and not locked and form.is_valid():
        try:
            score = services.save_answers(site=site, by=request.user, answers=form.answers(), request=request)
        except DomainError as error:
            show_error(form, error)
        else:
            pass_mark = SchemeSettings.load().pass_mark
            if score >= pass_mark:
                messages.success(request, f"Questionnaire enregistré : {score} points (minimum {pass_mark}).")
            else:
                messages.warning(
                    request,
                    f"Questionnaire enregistré : {score} points, en dessous du minimum de {pass_mark}. "
                    "Le dossier ne peut pas être déposé en l'état.",
                )
            return redirect("mediators:dashboard")
    return render(request, "mediators/questionnaire.html", {"form": form, "site": site, "locked": locked})


@site_required
def charter(request):
    site = current_site(request)
    scheme = SchemeSettings.load()
    form = forms.CharterForm(request.POST or None, initial={"version": scheme.charter_version})
    if request.method == "POST":
        denied = require_admin(request, "mediators:charter")
        if denied:
            return denied
        if form.is_valid():
            try:
                services.accept_charter(
                    site=site, by=request.user, version=form.cleaned_data["version"], request=request
                )
            except DomainError as error:
                show_error(form, error)
            else:
                messages.success(request, "La charte est acceptée.")
                return redirect("mediators:dashboard")
    accepted = site.charter_version == scheme.charter_version
    return render(
        request, "mediators/charter.html", {"form": form, "scheme": scheme, "site": site, "accepted": accepted}
    )


@site_required
def submit(request):
    site = current_site(request)
    if request.method == "POST":
        denied = require_admin(request, "mediators:dashboard")
        if denied:
            return denied
        try:
            services.submit_application(site=site, by=request.user, request=request)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Votre dossier est déposé : l'opérateur l'examine et vous répond par e-mail.")
        return redirect("mediators:dashboard")
    return render(
        request,
        "confirm.html",
        {
            "title": "Déposer le dossier de qualification",
            "question": "Déposer le dossier ? Le questionnaire ne pourra plus être modifié pendant l'examen.",
            "confirm_label": "Oui, déposer le dossier",
            "back_url": reverse("mediators:dashboard"),
        },
    )


def document_response(request, document):
    """The file as a download (read at once: at most 5 MB), never displayed inline; written to
    the audit log, whether the site or the operator downloads it."""
    try:
        with document.file.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError as exc:
        raise Http404("Ce fichier n'est plus disponible.") from exc
    record_download(
        request=request, document=document, organisation=document.site.organisation, file_name=document.original_name
    )
    response = HttpResponse(content, content_type=document.content_type)
    response["Content-Disposition"] = content_disposition_header(True, document.original_name)
    return never_stored(response)  # statutes, bank proofs: personal and financial data


@site_required
def documents(request):
    site = current_site(request)
    form = forms.DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_document(
                site=site,
                by=request.user,
                kind=form.cleaned_data["kind"],
                uploaded=form.cleaned_data["file"],
                request=request,
            )
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(request, "La pièce est envoyée.")
            return redirect("mediators:documents")
    return render(
        request, "mediators/documents.html", {"site": site, "form": form, "documents": selectors.site_documents(site)}
    )


@site_required
def document_download(request, pk):
    document = get_for_organisation_or_404(
        SupportingDocument.objects.select_related("site__organisation"), request.organisation, pk=pk
    )
    return document_response(request, document)


@site_required
def document_delete(request, pk):
    document = get_for_organisation_or_404(
        SupportingDocument.objects.select_related("site__organisation"), request.organisation, pk=pk
    )
    if request.method == "POST":
        services.delete_document(document=document, by=request.user, request=request)
        messages.success(request, f"« {document.original_name} » est supprimé.")
        return redirect("mediators:documents")
    return render(
        request,
        "confirm.html",
        {
            "title": "Supprimer une pièce",
            "question": f"Supprimer « {document.original_name} » ?",
            "confirm_label": "Oui, supprimer",
            "back_url": reverse("mediators:documents"),
        },
    )


@site_required
def bank(request):
    site = current_site(request)
    account = current_payee_account(organisation=site.organisation)
    if not (request.membership is not None and request.membership.is_admin):
        # Only the administrator changes the account: the others see it masked, with no form.
        if request.method == "POST":
            return require_admin(request, "mediators:bank")
        return render(request, "mediators/bank.html", {"form": None, "account": account, "site": site})
    initial = {}
    if account is not None:
        initial = {
            "payee_kind": account.payee_kind,
            "holder_name": account.holder_name,
            "iban": account.iban,
            "bic": account.bic,
        }
    form = forms.BankForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            account = set_payee_account(
                organisation=site.organisation,
                by=request.user,
                public_treasurer_allowed=site.sector == Sector.PUBLIC,
                request=request,
                **form.cleaned_data,
            )
        except DomainError as error:
            show_error(form, error)
        else:
            if account.is_verified:
                messages.success(request, "Le compte bancaire est enregistré.")
            else:
                messages.success(
                    request,
                    "Le compte bancaire est enregistré : l'opérateur va le vérifier avant le prochain virement.",
                )
            return redirect("mediators:dashboard")
    return render(request, "mediators/bank.html", {"form": form, "account": account, "site": site})

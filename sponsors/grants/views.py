"""Pages of the business grant (/subventions/): the company's application and instalments, the
sponsor's scheme settings, queue, instruction and report. An application's pages are shared by
both sides: the application is found through ``for_organisation`` first (another organisation →
404), then what the page offers depends on the side (the company, or the instructing sponsor)."""

import io
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, urlencode

from clearing.payees.forms import BankForm
from clearing.payees.models import PayeeKind
from clearing.payees.selectors import current_payee_account
from clearing.payees.services import set_payee_account
from passnum import csv_export
from passnum.audit.services import record_download
from passnum.errors import DomainError
from passnum.organisations.decorators import organisation_required
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.middleware import SESSION_KEY
from passnum.organisations.tenancy import get_for_organisation_or_404
from passnum.passes.downloads import never_stored
from sponsors.grants import eligibility, forms, selectors, services
from sponsors.grants.enums import ApplicationStatus, DocumentKind
from sponsors.grants.models import ApplicationDocument, GrantApplication, GrantScheme, Instalment

GRANT_KINDS = [OrganisationKind.COMPANY, OrganisationKind.SPONSOR]
PAGE_SIZE = 25


def grants_required(view):
    return organisation_required(kinds=GRANT_KINDS)(view)


def _form_error(form, error):
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def _side(request, application):
    return "company" if application.company_id == request.organisation.pk else "sponsor"


def application_view(view):
    """Logged in, acting for an organisation; the application found through its tenancy (404)."""

    @login_required
    @wraps(view)
    def wrapper(request, pk, *args, **kwargs):
        application = get_for_organisation_or_404(
            GrantApplication.objects.select_related("scheme__sponsor", "company", "assigned_to", "renewal_of"),
            request.organisation,
            pk=pk,
        )
        return view(request, application, _side(request, application), *args, **kwargs)

    return wrapper


@login_required
def company_register(request):
    """« Inscrire mon entreprise »: like a site's sign-up, the user becomes its administrator."""
    form = forms.CompanyRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            company = services.register_company(user=request.user, request=request, **form.cleaned_data)
        except DomainError as error:
            _form_error(form, error)
        else:
            request.session[SESSION_KEY] = company.pk
            messages.success(request, f"« {company} » est inscrite. Vous pouvez maintenant déposer une demande.")
            return redirect("grants:home")
    return render(request, "sponsors/grants/company_register.html", {"form": form})


@organisation_required(kinds=[OrganisationKind.COMPANY])
def company_bank(request):
    """The company's bank account, where its grant instalments are paid (by the operator's SEPA
    batches, once the operator has verified the account). Only an administrator changes it."""
    account = current_payee_account(organisation=request.organisation)
    is_admin = request.membership is not None and request.membership.is_admin
    form = None
    if is_admin:
        initial = {}
        if account is not None:
            initial = {"holder_name": account.holder_name, "iban": account.iban, "bic": account.bic}
        form = BankForm(request.POST or None, initial=initial)
        del form.fields["payee_kind"]  # a company is paid on its own account
        if request.method == "POST" and form.is_valid():
            try:
                account = set_payee_account(
                    organisation=request.organisation,
                    by=request.user,
                    public_treasurer_allowed=False,
                    request=request,
                    payee_kind=PayeeKind.SELF,
                    **form.cleaned_data,
                )
            except DomainError as error:
                _form_error(form, error)
            else:
                messages.success(
                    request,
                    "Le compte bancaire est enregistré."
                    if account.is_verified
                    else "Le compte bancaire est enregistré : l'opérateur va le vérifier avant le premier virement.",
                )
                return redirect("grants:home")
    elif request.method == "POST":
        raise PermissionDenied("Seul un administrateur de l'entreprise change le compte bancaire.")
    return render(request, "sponsors/grants/bank.html", {"form": form, "account": account})


@grants_required
def home(request):
    if request.organisation.kind == OrganisationKind.COMPANY:
        return render(
            request,
            "sponsors/grants/company_home.html",
            {
                "applications": selectors.applications_of(organisation=request.organisation),
                "schemes": selectors.open_schemes(),
            },
        )
    status = request.GET.get("etat", "")
    if status not in ApplicationStatus.values:
        status = ""
    search = request.GET.get("q", "")[:100]
    page = Paginator(selectors.queue(sponsor=request.organisation, status=status, search=search), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "sponsors/grants/queue.html",
        {
            "page": page,
            "status": status,
            "search": search,
            "query": urlencode({"etat": status, "q": search}),
            "statuses": [c for c in ApplicationStatus.choices if c[0] != ApplicationStatus.DRAFT],
            "schemes": selectors.schemes_of(sponsor=request.organisation),
            "to_pay": selectors.accepted_to_pay(sponsor=request.organisation).count(),
        },
    )


@grants_required
def application_create(request):
    if request.method != "POST":
        return redirect("grants:home")
    if request.organisation.kind != OrganisationKind.COMPANY:
        raise PermissionDenied("Seule une entreprise dépose une demande.")
    scheme_id = request.POST.get("scheme", "")
    scheme = GrantScheme.objects.filter(is_open=True, pk=scheme_id).first() if scheme_id.isdigit() else None
    if scheme is None:
        messages.error(request, "Choisissez un dispositif ouvert aux demandes.")
        return redirect("grants:home")
    try:
        application = services.create_application(
            scheme=scheme, company=request.organisation, by=request.user, request=request
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("grants:home")
    return redirect("grants:application", pk=application.pk)


@grants_required
def scheme_edit(request):
    """The sponsor's grant scheme settings (its first scheme, created on first save)."""
    if request.organisation.kind != OrganisationKind.SPONSOR:
        raise PermissionDenied("Réservé au commanditaire qui instruit les demandes.")
    scheme = selectors.schemes_of(sponsor=request.organisation).order_by("pk").first()
    initial = forms.SchemeForm.initial_of(scheme or GrantScheme(name="Pass numérique entreprises"))
    form = forms.SchemeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if not request.membership.is_admin:
            raise PermissionDenied("Seul un administrateur du commanditaire règle le dispositif.")
        try:
            services.save_scheme(
                sponsor=request.organisation, by=request.user, fields=form.settings(), scheme=scheme, request=request
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, "Les règles du dispositif sont enregistrées.")
            return redirect("grants:home")
    return render(request, "sponsors/grants/scheme_form.html", {"form": form, "scheme": scheme})


def _draft_forms(request, application):
    data = request.POST if request.method == "POST" else None
    form = forms.ApplicationForm(data, initial=forms.ApplicationForm.initial_of(application))
    initial_lines = [
        {
            "category": line.category,
            "supplier": line.supplier,
            "description": line.description,
            "amount_cents": forms.cents_to_text(line.amount_cents),
        }
        for line in application.lines.all()
    ]
    formset = forms.ExpenditureFormSet(data, initial=initial_lines, prefix="lines")
    return form, formset


def _page_context(request, application, side):
    return {
        "application": application,
        "side": side,
        "scheme": application.scheme,
        "lines": list(application.lines.all()),
        "total": selectors.total_expenditure_cents(application=application),
        "documents": list(application.documents.select_related("uploaded_by")),
        "checks": selectors.checks_of(application=application),
        "history": list(application.status_changes.select_related("actor")[:20]),
        "instalments": list(application.instalments.select_related("line")),
        "remaining": selectors.remaining_cents(application=application),
        "document_form": forms.DocumentForm(),
        "decided": application.status in (ApplicationStatus.GRANTED, ApplicationStatus.REFUSED),
        "document_kinds": DocumentKind.choices,
        "can_upload": side == "company"
        and application.status in (ApplicationStatus.DRAFT, ApplicationStatus.INFO_REQUESTED),
    }


@application_view
def application(request, application, side):
    """The company edits its draft (or reads its filed application); the sponsor instructs."""
    context = _page_context(request, application, side)
    if side == "company" and application.is_editable:
        form, formset = _draft_forms(request, application)
        if request.method == "POST" and form.is_valid() and formset.is_valid():
            try:
                services.save_draft(
                    application=application,
                    by=request.user,
                    fields=form.cleaned_data,
                    lines=forms.lines_of(formset),
                    request=request,
                )
            except DomainError as error:
                _form_error(form, error)
            else:
                messages.success(request, "Le brouillon est enregistré.")
                return redirect("grants:application", pk=application.pk)
        context.update(form=form, formset=formset)
        return render(request, "sponsors/grants/application_edit.html", context)
    if side == "company":
        context["answer_form"] = forms.AnswerForm()
        context["instalment_form"] = forms.InstalmentForm(lines=context["lines"])
    else:
        context["assign_form"] = forms.AssignForm(
            memberships=selectors.instructors(sponsor=request.organisation),
            initial={"instructor": application.assigned_to_id},
        )
        context["info_form"] = forms.InfoRequestForm()
        context["decision_form"] = forms.DecisionForm()
        context["instalment_decision_form"] = forms.InstalmentDecisionForm()
    return render(request, "sponsors/grants/application.html", context)


@application_view
def application_checks(request, application, side):
    """The eligibility rules on what the company is typing (htmx), nothing saved."""
    if request.method != "POST":
        return redirect("grants:application", pk=application.pk)
    results = selectors.checks_of(application=application)
    if side == "company" and application.is_editable:
        form, formset = _draft_forms(request, application)
        facts = selectors.facts_of(application=application)
        form.is_valid()
        formset.is_valid()
        data = form.cleaned_data
        for name in ("headcount", "start_date", "end_date", "requested_amount_cents", "commune_code"):
            if name in data and name not in form.errors:
                setattr(facts, name, data[name] if data[name] is not None else None)
        facts.commune_code = (facts.commune_code or "").strip().upper()
        facts.lines = [
            (f.cleaned_data["category"], f.cleaned_data["amount_cents"])
            for f in formset.forms
            if getattr(f, "cleaned_data", None)
            and f.cleaned_data.get("amount_cents")
            and not f.cleaned_data.get("DELETE")
        ]
        results = eligibility.evaluate(scheme=application.scheme, facts=facts)
    return render(request, "sponsors/grants/_checks.html", {"checks": results})


@application_view
def document_upload(request, application, side):
    if request.method != "POST" or side != "company":
        return redirect("grants:application", pk=application.pk)
    form = forms.DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_document(
                application=application,
                by=request.user,
                kind=form.cleaned_data["kind"],
                uploaded=form.cleaned_data["file"],
                request=request,
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "La pièce est jointe à la demande.")
    else:
        messages.error(
            request,
            "Choisissez le type de pièce et le fichier : "
            + " ".join(str(e) for errors in form.errors.values() for e in errors),
        )
    return redirect("grants:application", pk=application.pk)


def _file_download(request, instance, organisation):
    try:
        with instance.file.open("rb") as handle:
            content = handle.read()
    except (FileNotFoundError, ValueError):
        raise Http404("Ce fichier n'est plus disponible.") from None
    record_download(request=request, document=instance, organisation=organisation, file_name=instance.original_name)
    response = HttpResponse(content, content_type=instance.content_type)
    response["Content-Disposition"] = content_disposition_header(True, instance.original_name)
    return never_stored(response)


@login_required
def document_download(request, pk):
    document = get_for_organisation_or_404(
        ApplicationDocument.objects.select_related("application"), request.organisation, pk=pk
    )
    return _file_download(request, document, request.organisation)


@login_required
def document_delete(request, pk):
    document = get_for_organisation_or_404(
        ApplicationDocument.objects.select_related("application__company"), request.organisation, pk=pk
    )
    back = reverse("grants:application", kwargs={"pk": document.application_id})
    if document.application.company_id != request.organisation.pk:
        raise PermissionDenied("Seule l'entreprise retire une pièce de sa demande.")
    if document.application.status not in (ApplicationStatus.DRAFT, ApplicationStatus.INFO_REQUESTED):
        messages.error(request, "Les pièces d'une demande déposée restent au dossier.")
        return redirect(back)
    if request.method == "POST":
        try:
            services.delete_document(document=document, by=request.user, request=request)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"« {document.original_name} » est retiré de la demande.")
        return redirect(back)
    return render(
        request,
        "confirm.html",
        {
            "title": "Retirer une pièce",
            "question": f"Retirer « {document.original_name} » de la demande ?",
            "confirm_label": "Oui, retirer la pièce",
            "back_url": back,
        },
    )


def _pdf(request, application, content, name):
    record_download(request=request, document=application, organisation=request.organisation, file_name=name)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, name)
    return never_stored(response)


@application_view
def request_letter(request, application, side):
    content = services.render_request_letter_pdf(application=application)
    return _pdf(request, application, content, f"lettre-de-demande-{application.reference}.pdf")


@application_view
def decision_letter(request, application, side):
    try:
        content = services.render_decision_letter_pdf(application=application)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("grants:application", pk=application.pk)
    return _pdf(request, application, content, f"decision-{application.reference}.pdf")


@application_view
def submit(request, application, side):
    back = reverse("grants:application", kwargs={"pk": application.pk})
    if side != "company":
        raise PermissionDenied("Seule l'entreprise dépose sa demande.")
    if not application.is_editable:
        messages.error(request, "Cette demande est déjà déposée.")
        return redirect(back)
    if request.method == "POST":
        try:
            services.submit_application(application=application, by=request.user, request=request)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Votre demande est déposée : le service instructeur en est averti.")
        return redirect(back)
    return render(
        request,
        "confirm.html",
        {
            "title": "Déposer la demande",
            "question": "Déposer la demande ? Elle ne sera plus modifiable, sauf si le service instructeur vous "
            "demande des compléments.",
            "confirm_label": "Oui, déposer la demande",
            "back_url": back,
        },
    )


@application_view
def answer(request, application, side):
    if request.method != "POST" or side != "company":
        return redirect("grants:application", pk=application.pk)
    form = forms.AnswerForm(request.POST)
    try:
        if not form.is_valid():
            raise services.GrantError("Écrivez votre réponse.")
        services.answer_information(
            application=application, by=request.user, answer=form.cleaned_data["answer"], request=request
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Votre réponse est envoyée : la demande retourne au service instructeur.")
    return redirect("grants:application", pk=application.pk)


@application_view
def instruct(request, application, side):
    """The sponsor's staff: assign, ask for more information, decide."""
    if request.method != "POST":
        return redirect("grants:application", pk=application.pk)
    if side != "sponsor":
        raise PermissionDenied("Réservé au service instructeur.")
    action = request.POST.get("action")
    try:
        if action == "assign":
            memberships = list(selectors.instructors(sponsor=request.organisation))
            form = forms.AssignForm(request.POST, memberships=memberships)
            # The form only offers the service's members: a valid choice is one of them.
            membership = next((m for m in memberships if str(m.user_id) == request.POST.get("instructor")), None)
            if not form.is_valid() or membership is None:
                raise services.GrantError("Choisissez un membre du service instructeur.")
            services.assign(
                application=application,
                instructor=membership.user,
                by=request.user,
                sponsor=request.organisation,
                request=request,
            )
            messages.success(request, "La demande est confiée.")
        elif action == "info":
            services.request_information(
                application=application,
                by=request.user,
                sponsor=request.organisation,
                message=request.POST.get("message", ""),
                request=request,
            )
            messages.success(request, "La demande de compléments est envoyée à l'entreprise.")
        elif action == "decide":
            form = forms.DecisionForm(request.POST)
            if not form.is_valid():
                raise services.GrantError(
                    "Décision incomplète : " + " ".join(str(e) for errors in form.errors.values() for e in errors)
                )
            services.decide(
                application=application,
                by=request.user,
                sponsor=request.organisation,
                granted=form.cleaned_data["decision"] == "granted",
                amount_cents=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
            messages.success(request, "La décision est enregistrée et envoyée à l'entreprise.")
        else:
            raise services.GrantError("Action inconnue.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("grants:application", pk=application.pk)


@application_view
def instalment_create(request, application, side):
    if request.method != "POST" or side != "company":
        return redirect("grants:application", pk=application.pk)
    lines = list(application.lines.all())
    form = forms.InstalmentForm(request.POST, request.FILES, lines=lines)
    try:
        if not form.is_valid():
            raise services.GrantError(
                "Facture incomplète : " + " ".join(str(e) for errors in form.errors.values() for e in errors)
            )
        line = next(line for line in lines if str(line.pk) == form.cleaned_data["line"])
        services.submit_instalment(
            application=application,
            by=request.user,
            line=line,
            invoice_number=form.cleaned_data["invoice_number"],
            amount_cents=form.cleaned_data["amount"],
            uploaded=form.cleaned_data["file"],
            request=request,
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "La facture est envoyée au service instructeur.")
    return redirect("grants:application", pk=application.pk)


@login_required
def instalment(request, pk):
    """GET: the invoice file; POST: the instructor's decision on it."""
    item = get_for_organisation_or_404(
        Instalment.objects.select_related("application__scheme__sponsor", "application__company"),
        request.organisation,
        pk=pk,
    )
    back = reverse("grants:application", kwargs={"pk": item.application_id})
    if request.method != "POST":
        return _file_download(request, item, request.organisation)
    if item.application.scheme.sponsor_id != request.organisation.pk:
        raise PermissionDenied("Réservé au service instructeur.")
    form = forms.InstalmentDecisionForm(request.POST)
    try:
        if not form.is_valid():
            raise services.GrantError("Choisissez d'accepter ou de refuser la facture.")
        if form.cleaned_data["decision"] == "accept":
            services.accept_instalment(instalment=item, by=request.user, sponsor=request.organisation, request=request)
            messages.success(request, "La facture est acceptée : le versement est à payer.")
        else:
            services.refuse_instalment(
                instalment=item,
                by=request.user,
                sponsor=request.organisation,
                reason=form.cleaned_data["reason"],
                request=request,
            )
            messages.success(request, "La facture est refusée ; l'entreprise en est avertie.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(back)


@grants_required
def report(request):
    if request.organisation.kind != OrganisationKind.SPONSOR:
        raise PermissionDenied("Réservé au commanditaire qui instruit les demandes.")
    data = selectors.report(sponsor=request.organisation)
    if request.GET.get("format") == "csv":
        return _report_csv(request, data)
    groups = [("Par secteur (code NAF)", data["sectors"]), ("Par commune du siège", data["communes"])]
    return render(request, "sponsors/grants/report.html", {"report": data, "groups": groups})


def _report_csv(request, data):
    buffer = io.StringIO()
    writer = csv_export.writer(buffer, delimiter=";")
    writer.writerow(["regroupement", "valeur", "demandes", "demandé (€)", "accordé (€)", "payé (€)"])

    def euros_cell(cents):
        return f"{cents // 100},{cents % 100:02d}"

    for row in data["by_status"]:
        writer.writerow(["état", row["label"], row["count"], "", "", ""])
    for row in data["sectors"]:
        writer.writerow(
            [
                "secteur NAF",
                row["key"],
                row["count"],
                euros_cell(row["requested"]),
                euros_cell(row["granted"]),
                euros_cell(row["paid"]),
            ]
        )
    for row in data["communes"]:
        writer.writerow(
            [
                "commune",
                row["label"],
                row["count"],
                euros_cell(row["requested"]),
                euros_cell(row["granted"]),
                euros_cell(row["paid"]),
            ]
        )
    totals = data["totals"]
    writer.writerow(
        ["total", "", "", euros_cell(totals["requested"]), euros_cell(totals["granted"]), euros_cell(totals["paid"])]
    )
    record_download(
        request=request, organisation=request.organisation, kind="grant_report", file_name="subventions-bilan.csv"
    )
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, "subventions-bilan.csv")
    return never_stored(response)

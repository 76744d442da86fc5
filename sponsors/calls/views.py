"""The funder's space (/financeur/: calls, applications, agreements, what it owes and its quarterly
statements) and the sponsor's pages of calls for projects (/sponsor/appels/, /sponsor/candidatures/).
Another organisation's call, application or statement answers 404 (``get_for_organisation_or_404``)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from passnum.audit.services import record_download
from passnum.errors import DomainError
from passnum.organisations.decorators import organisation_required
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.tenancy import get_for_organisation_or_404
from passnum.passes.downloads import file_response
from sponsors.calls import selectors, services
from sponsors.calls.forms import ApplicationForm, CallForm, QuarterForm, RefuseForm, ScoreForm, SelectForm, to_bp
from sponsors.calls.models import Application, Call, FunderStatement, ReceivedApplication
from sponsors.models import Programme

funder_required = organisation_required(kinds=[OrganisationKind.FUNDER])
sponsor_required = organisation_required(kinds=[OrganisationKind.SPONSOR])
PAGE_SIZE = 25


def _form_error(form, error):
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def _page(request, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


# --- The funder's space ---------------------------------------------------------------------


@funder_required
def funder_home(request):
    funder = request.organisation
    today = timezone.localdate()
    year, quarter = services.previous_quarter(today)
    return render(
        request,
        "funders/home.html",
        {
            "calls": selectors.calls_of(funder=funder),
            "pending": selectors.received_applications(funder=funder).filter(status=Application.Status.SUBMITTED)[:50],
            "agreements": selectors.agreements_of(funder=funder),
            "overview": selectors.funder_overview(funder=funder),
            "statements": selectors.statements_of(funder=funder),
            "quarter_form": QuarterForm(initial={"year": year, "quarter": quarter}),
        },
    )


@funder_required
def call_new(request):
    form = CallForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            call = services.create_call(
                funder=request.organisation, data=form.to_data(), actor=request.user, request=request
            )
        except DomainError as error:
            _form_error(form, _call_field(error))
        else:
            messages.success(
                request, f"L'appel « {call.title} » est enregistré en brouillon : publiez-le quand il est prêt."
            )
            return redirect("calls:call", pk=call.pk)
    return render(request, "funders/call_form.html", {"form": form, "title": "Nouvel appel à projets"})


CALL_FORM_FIELDS = {
    "max_share_bp": "max_share_percent",
    "min_purchase_cents": "min_purchase_euros",
    "max_purchase_cents": "max_purchase_euros",
    "priority_min_bp": "priority_min_percent",
}


def _call_field(error):
    """The service names the model's field; the form shows it under its own field."""
    error.field = CALL_FORM_FIELDS.get(error.field, error.field)
    return error


@funder_required
def call_detail(request, pk):
    call = get_for_organisation_or_404(Call.objects.all(), request.organisation, pk=pk)
    search = request.GET.get("q", "").strip()[:100]
    applications = selectors.received_applications(funder=request.organisation, call=call, search=search)
    return render(
        request,
        "funders/call_detail.html",
        {
            "call": call,
            "priority_labels": [selectors.audience_label(code) for code in call.priority_audiences],
            "applications": _page(request, applications),
            "search": search,
            "query": urlencode({"q": search}) if search else "",
        },
    )


@funder_required
def call_edit(request, pk):
    call = get_for_organisation_or_404(Call.objects.all(), request.organisation, pk=pk)
    form = CallForm(request.POST or None, initial=CallForm.initial_for(call))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_call(call=call, data=form.to_data(), actor=request.user, request=request)
        except DomainError as error:
            _form_error(form, _call_field(error))
        else:
            messages.success(request, "L'appel à projets est modifié.")
            return redirect("calls:call", pk=call.pk)
    return render(
        request, "funders/call_form.html", {"form": form, "title": f"Modifier « {call.title} »", "call": call}
    )


def _confirm_action(request, call, *, action, title, question, label, done):
    back = reverse("calls:call", kwargs={"pk": call.pk})
    if request.method == "POST":
        try:
            action(call=call, actor=request.user, request=request)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done)
        return redirect(back)
    return render(
        request, "confirm.html", {"title": title, "question": question, "confirm_label": label, "back_url": back}
    )


@funder_required
def call_publish(request, pk):
    call = get_for_organisation_or_404(Call.objects.all(), request.organisation, pk=pk)
    return _confirm_action(
        request,
        call,
        action=services.publish_call,
        title=f"Publier « {call.title} »",
        question="Publier l'appel ? Tous les commanditaires le verront et pourront candidater jusqu'à la date limite ; "
        "ses règles (part, montants, publics) ne pourront plus changer.",
        label="Oui, publier l'appel",
        done="L'appel est publié : les commanditaires peuvent candidater.",
    )


@funder_required
def call_close(request, pk):
    call = get_for_organisation_or_404(Call.objects.all(), request.organisation, pk=pk)
    return _confirm_action(
        request,
        call,
        action=services.close_call,
        title=f"Clore « {call.title} »",
        question="Clore l'appel ? Il n'acceptera plus de candidature ; celles déjà déposées restent à décider.",
        label="Oui, clore l'appel",
        done="L'appel est clos.",
    )


@funder_required
def received_application(request, pk):
    application = get_for_organisation_or_404(
        ReceivedApplication.objects.exclude(status=Application.Status.DRAFT).select_related(
            "call", "programme", "sponsor"
        ),
        request.organisation,
        pk=pk,
    )
    action = request.POST.get("action") if request.method == "POST" else None
    score_form = ScoreForm(request.POST if action == "score" else None, initial={"score": application.score})
    refuse_form = RefuseForm(request.POST if action == "refuse" else None)
    select_form = SelectForm(request.POST if action == "select" else None)
    forms_by_action = {"score": score_form, "refuse": refuse_form, "select": select_form}
    form = forms_by_action.get(action)
    if form is not None and form.is_valid():
        try:
            if action == "score":
                services.score_application(
                    application=application, score=form.cleaned_data["score"], actor=request.user, request=request
                )
                done = "La note est enregistrée."
            elif action == "refuse":
                services.refuse_application(
                    application=application, reason=form.cleaned_data["reason"], actor=request.user, request=request
                )
                done = "La candidature est refusée ; le commanditaire voit le motif."
            else:
                services.select_application(
                    application=application, reason=form.cleaned_data["reason"], actor=request.user, request=request
                )
                done = "La candidature est retenue : la convention de cofinancement est attachée au programme."
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, done)
            return redirect("calls:received", pk=application.pk)
    return render(
        request,
        "funders/application_detail.html",
        {
            "application": application,
            "audiences": [(selectors.audience_label(code), bp) for code, bp in application.audiences.items()],
            "score_form": score_form,
            "refuse_form": refuse_form,
            "select_form": select_form,
            "agreement": getattr(application, "agreement", None)
            if application.status == Application.Status.SELECTED
            else None,
        },
    )


@funder_required
def statement_issue(request):
    today = timezone.localdate()
    year, quarter = services.previous_quarter(today)
    form = QuarterForm(request.POST or None, initial={"year": year, "quarter": quarter})
    if request.method == "POST" and form.is_valid():
        try:
            statement = services.issue_funder_statement(
                funder=request.organisation,
                year=form.cleaned_data["year"],
                quarter=form.cleaned_data["quarter"],
                actor=request.user,
                request=request,
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Le relevé {statement.number} est émis.")
            return redirect("calls:funder_home")
    return render(request, "funders/statement_issue.html", {"form": form})


@funder_required
def statement_pdf(request, pk):
    statement = get_for_organisation_or_404(FunderStatement.objects.all(), request.organisation, pk=pk)
    if not statement.pdf:
        raise Http404("Le PDF de ce relevé n'est pas disponible.")
    record_download(
        request=request, document=statement, organisation=request.organisation, file_name=f"{statement.number}.pdf"
    )
    return file_response(statement.pdf, f"{statement.number}.pdf")


# --- The sponsor's side ---------------------------------------------------------------------


@sponsor_required
def open_calls(request):
    return render(
        request,
        "sponsors/calls/open_calls.html",
        {
            "calls": [
                (call, [selectors.audience_label(code) for code in call.priority_audiences])
                for call in selectors.open_calls()
            ],
            "applications": _page(request, selectors.applications_of(sponsor=request.organisation)),
        },
    )


def _application_form(request, *, initial=None):
    return ApplicationForm(
        request.POST or None,
        initial=initial,
        calls=selectors.open_calls(),
        programmes=Programme.objects.for_organisation(request.organisation).filter(status=Programme.Status.OPEN),
    )


def _save(request, form, *, application=None):
    """Saves the draft, then submits it if asked; a refused submission leaves the draft saved."""
    data = form.cleaned_data
    try:
        application = services.save_application(
            sponsor=request.organisation,
            call=data["call"],
            programme=data["programme"],
            booklet_count=data["booklet_count"],
            share_bp=to_bp(data["share_percent"]),
            audiences=form.audiences(),
            application=application,
            actor=request.user,
            request=request,
        )
    except DomainError as error:
        if error.field == "share":
            error.field = "share_percent"
        _form_error(form, error)
        return None
    if request.POST.get("action") == "submit":
        try:
            services.submit_application(application=application, actor=request.user, request=request)
        except DomainError as error:
            messages.error(request, f"Brouillon enregistré, mais non déposé : {error.message}")
        else:
            messages.success(request, "La candidature est déposée : le cofinanceur l'examinera.")
    else:
        messages.success(request, "Le brouillon de candidature est enregistré.")
    return application


@sponsor_required
def application_new(request):
    initial = {"call": request.GET.get("appel")} if request.GET.get("appel", "").isdigit() else None
    form = _application_form(request, initial=initial)
    if request.method == "POST" and form.is_valid():
        application = _save(request, form)
        if application is not None:
            return redirect("calls:application", pk=application.pk)
    return render(
        request, "sponsors/calls/application_form.html", {"form": form, "title": "Candidater à un appel à projets"}
    )


@sponsor_required
def application_detail(request, pk):
    application = get_for_organisation_or_404(
        Application.objects.select_related("call__funder", "programme"), request.organisation, pk=pk
    )
    form = None
    if application.status == Application.Status.DRAFT:
        form = _application_form(request, initial=ApplicationForm.initial_for(application))
        if request.method == "POST" and form.is_valid() and _save(request, form, application=application) is not None:
            return redirect("calls:application", pk=application.pk)
    return render(
        request,
        "sponsors/calls/application_detail.html",
        {
            "application": application,
            "audiences": [(selectors.audience_label(code), bp) for code, bp in application.audiences.items()],
            "late": application.status == Application.Status.DRAFT and timezone.localdate() > application.call.deadline,
            "form": form,
        },
    )

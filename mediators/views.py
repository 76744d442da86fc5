"""The site space (/site/), the sign-up of a new structure and the public finder (/trouver/).

Views are thin: forms check types, services apply the rules and raise ``DomainError`` whose
message is shown on the field it concerns.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header

from mediators import forms, selectors, services
from mediators.models import (
    CatalogueItem,
    PayeeAccount,
    PointOfPresence,
    QualificationStatus,
    SchemeSettings,
    SupportingDocument,
    Workshop,
)
from passnum.errors import DomainError
from passnum.organisations.decorators import organisation_required
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.middleware import SESSION_KEY
from passnum.organisations.services import check_is_admin
from passnum.organisations.tenancy import get_for_organisation_or_404

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


# --- sign-up ---------------------------------------------------------------------------------


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


# --- dashboard and application ---------------------------------------------------------------


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
            "payee": PayeeAccount.objects.filter(site=site).first(),
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


# --- points of presence ----------------------------------------------------------------------


@site_required
def points(request):
    site = current_site(request)
    return render(
        request, "mediators/points.html", {"site": site, "points": site.points.order_by("-is_active", "name")}
    )


def _point_form(request, site, point=None):
    form = forms.PointForm(request.POST or None, instance=point)
    if request.method == "POST" and form.is_valid():
        data = {field: form.cleaned_data.get(field) for field in forms.PointForm.Meta.fields}
        try:
            services.save_point_of_presence(site=site, by=request.user, data=data, point=point, request=request)
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(request, f"Le lieu « {data['name']} » est enregistré.")
            return redirect("mediators:points")
    title = f"Modifier le lieu « {point.name} »" if point else "Ajouter un lieu d'accueil"
    return render(request, "mediators/point_form.html", {"form": form, "title": title, "point": point})


@site_required
def point_add(request):
    return _point_form(request, current_site(request))


@site_required
def point_edit(request, pk):
    point = get_for_organisation_or_404(PointOfPresence.objects.select_related("site"), request.organisation, pk=pk)
    return _point_form(request, point.site, point)


@site_required
def point_close(request, pk):
    point = get_for_organisation_or_404(
        PointOfPresence.objects.select_related("site__organisation"), request.organisation, pk=pk
    )
    if request.method == "POST":
        services.close_point_of_presence(point=point, by=request.user, request=request)
        messages.success(request, f"Le lieu « {point.name} » est fermé : il n'apparaît plus dans l'annuaire.")
        return redirect("mediators:points")
    return render(
        request,
        "confirm.html",
        {
            "title": "Fermer un lieu",
            "question": f"Fermer « {point.name} » ? Il disparaîtra de l'annuaire et ses ateliers à venir "
            "seront annulés.",
            "confirm_label": "Oui, fermer ce lieu",
            "back_url": reverse("mediators:points"),
        },
    )


# --- catalogue -------------------------------------------------------------------------------


def _catalogue_save(request, site, form, item=None):
    try:
        services.save_catalogue_item(
            site=site,
            by=request.user,
            service_code=form.cleaned_data["service"],
            passes_required=form.cleaned_data["passes_required"],
            format=form.cleaned_data["format"],
            duration_minutes=form.cleaned_data["duration_minutes"],
            tariff_cents=form.tariff_cents,
            item=item,
            request=request,
        )
    except DomainError as error:
        show_error(form, error)
        return False
    return True


@site_required
def catalogue(request):
    site = current_site(request)
    form = forms.CatalogueItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _catalogue_save(request, site, form):
        messages.success(request, "Le service est ajouté à votre catalogue.")
        return redirect("mediators:catalogue")
    items = site.catalogue.select_related("service__subcategory__level").order_by("service__code")
    return render(request, "mediators/catalogue.html", {"site": site, "items": items, "form": form})


@site_required
def catalogue_edit(request, pk):
    item = get_for_organisation_or_404(
        CatalogueItem.objects.select_related("site", "service"), request.organisation, pk=pk
    )
    initial = {
        "service": str(item.service.code),
        "passes_required": item.passes_required,
        "format": item.format,
        "duration_minutes": item.duration_minutes,
        "tariff_euros": item.tariff_cents / 100,
    }
    form = forms.CatalogueItemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and _catalogue_save(request, item.site, form, item):
        messages.success(request, "Le service est modifié.")
        return redirect("mediators:catalogue")
    return render(
        request,
        "mediators/form_page.html",
        {
            "form": form,
            "title": f"Modifier « {item.service.title} »",
            "submit_label": "Enregistrer",
            "back_url": reverse("mediators:catalogue"),
        },
    )


@site_required
def catalogue_remove(request, pk):
    item = get_for_organisation_or_404(
        CatalogueItem.objects.select_related("site__organisation", "service"), request.organisation, pk=pk
    )
    if request.method == "POST":
        services.remove_catalogue_item(item=item, by=request.user, request=request)
        messages.success(request, f"« {item.service.title} » est retiré de votre catalogue.")
        return redirect("mediators:catalogue")
    return render(
        request,
        "confirm.html",
        {
            "title": "Retirer un service",
            "question": f"Retirer « {item.service.title} » de votre catalogue ? Ses ateliers à venir seront annulés.",
            "confirm_label": "Oui, retirer ce service",
            "back_url": reverse("mediators:catalogue"),
        },
    )


def document_response(document):
    """The file as a download (read at once: at most 5 MB), never displayed inline."""
    try:
        with document.file.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError as exc:
        raise Http404("Ce fichier n'est plus disponible.") from exc
    response = HttpResponse(content, content_type=document.content_type)
    response["Content-Disposition"] = content_disposition_header(True, document.original_name)
    return response


# --- documents -------------------------------------------------------------------------------


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
    document = get_for_organisation_or_404(SupportingDocument.objects.all(), request.organisation, pk=pk)
    return document_response(document)


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


# --- bank account ----------------------------------------------------------------------------


@site_required
def bank(request):
    site = current_site(request)
    account = PayeeAccount.objects.filter(site=site).first()
    initial = {}
    if account is not None:
        initial = {
            "payee_kind": account.payee_kind,
            "holder_name": account.holder_name,
            "iban": account.iban,
            "bic": account.bic,
        }
    form = forms.BankForm(request.POST or None, initial=initial)
    if request.method == "POST":
        denied = require_admin(request, "mediators:bank")
        if denied:
            return denied
        if form.is_valid():
            try:
                account = services.set_payee_account(site=site, by=request.user, request=request, **form.cleaned_data)
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


# --- workshops -------------------------------------------------------------------------------


@site_required
def workshops(request):
    site = current_site(request)
    items = (
        site.workshops.select_related("service", "point_of_presence")
        .filter(starts_at__gte=timezone.now() - timezone.timedelta(days=30))
        .order_by("starts_at")
    )
    return render(request, "mediators/workshops.html", {"site": site, "workshops": items})


def _workshop_form(request, site, workshop=None):
    initial = {}
    if workshop is not None:
        initial = {
            "service": str(workshop.service.code),
            "point_of_presence": workshop.point_of_presence_id,
            "title": workshop.title,
            "starts_at": timezone.localtime(workshop.starts_at),
            "duration_minutes": workshop.duration_minutes,
            "seats": workshop.seats,
            "level": workshop.level,
        }
    form = forms.WorkshopForm(request.POST or None, site=site, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_workshop(
                site=site,
                by=request.user,
                service_code=form.cleaned_data["service"],
                point_of_presence=form.cleaned_data["point_of_presence"],
                starts_at=form.cleaned_data["starts_at"],
                duration_minutes=form.cleaned_data["duration_minutes"],
                seats=form.cleaned_data["seats"],
                level=form.cleaned_data["level"],
                title=form.cleaned_data["title"],
                workshop=workshop,
                request=request,
            )
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(request, "L'atelier est publié.")
            return redirect("mediators:workshops")
    title = "Modifier l'atelier" if workshop else "Publier un atelier"
    return render(
        request,
        "mediators/form_page.html",
        {"form": form, "title": title, "submit_label": "Publier", "back_url": reverse("mediators:workshops")},
    )


@site_required
def workshop_add(request):
    return _workshop_form(request, current_site(request))


@site_required
def workshop_edit(request, pk):
    workshop = get_for_organisation_or_404(
        Workshop.objects.select_related("site", "service"), request.organisation, pk=pk
    )
    return _workshop_form(request, workshop.site, workshop)


@site_required
def workshop_cancel(request, pk):
    workshop = get_for_organisation_or_404(
        Workshop.objects.select_related("site__organisation", "service"), request.organisation, pk=pk
    )
    if request.method == "POST":
        services.cancel_workshop(workshop=workshop, by=request.user, request=request)
        messages.success(request, "L'atelier est annulé.")
        return redirect("mediators:workshops")
    return render(
        request,
        "confirm.html",
        {
            "title": "Annuler un atelier",
            "question": f"Annuler l'atelier « {workshop} » ?",
            "confirm_label": "Oui, annuler l'atelier",
            "back_url": reverse("mediators:workshops"),
        },
    )


# --- public finder ---------------------------------------------------------------------------


def finder(request):
    """Where to use a pass: a list first, plain GET, works without JavaScript."""
    form = forms.FinderForm(request.GET or None)
    criteria = {}
    if form.is_bound and form.is_valid():
        criteria = {key: value for key, value in form.cleaned_data.items() if value not in (None, "", [], False)}
    results = selectors.find_points(**criteria)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "mediators/finder.html",
        {
            "form": form,
            "page": page,
            "searched": bool(criteria),
            "query": query.urlencode(),
            **_finder_map(results, page),
        },
    )


def _finder_map(results, page):
    """The map's data (given to static/js/finder-map.js through json_script), or no map when
    there is no tile server or nothing to show. The list stays the product: the map only adds
    markers for its places."""
    if not settings.PASSNUM_MAP_TILE_URL or not page.paginator.count:
        return {"map_data": None}
    markers, truncated = selectors.map_points(results)
    on_page = {point.pk for point in page}
    for marker in markers:
        marker["in_page"] = marker["id"] in on_page
    data = {
        "tiles": {"url": settings.PASSNUM_MAP_TILE_URL, "attribution": settings.PASSNUM_MAP_ATTRIBUTION},
        "points": markers,
    }
    return {"map_data": data if markers else None, "map_truncated": truncated, "map_limit": selectors.MAP_MAX_POINTS}


def public_point(request, pk):
    point = selectors.public_point(pk)
    if point is None:
        raise Http404("Ce lieu n'existe pas ou n'accepte pas le Pass numérique.")
    return render(request, "mediators/public_point.html", {"point": point})


def public_workshops(request):
    form = forms.WorkshopFinderForm(request.GET or None)
    criteria = form.cleaned_data if form.is_bound and form.is_valid() else {}
    items = selectors.public_workshops(place=criteria.get("place", ""), level=criteria.get("level"))
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "mediators/public_workshops.html", {"form": form, "page": page, "query": query.urlencode()})

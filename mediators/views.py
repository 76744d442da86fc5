"""The site space (/site/), the sign-up of a new structure and the public finder (/trouver/).

Views are thin: forms check types, services apply the rules and raise ``DomainError`` whose
message is shown on the field it concerns.
"""

import csv
import hashlib
import json
import uuid
from functools import wraps
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from beneficiaries.selectors import pass_or_booklet_status
from mediators import forms, selectors, services
from mediators.models import (
    CatalogueItem,
    PayeeAccount,
    PointOfPresence,
    QualificationStatus,
    Redemption,
    SchemeSettings,
    SupportingDocument,
    Workshop,
    euros,
)
from passnum.api import request_hash
from passnum.audit.services import client_ip
from passnum.errors import DomainError
from passnum.organisations.decorators import organisation_required
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.middleware import SESSION_KEY
from passnum.organisations.services import check_is_admin
from passnum.organisations.tenancy import get_for_organisation_or_404
from passnum.passes import codes as pass_codes
from passnum.ratelimit import (
    FAILED_LOOKUPS,
    VERIFY_PER_MINUTE,
    check_lookups_allowed,
    count_failed_lookup,
    per_ip_limit_reached,
)

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


# --- scan page -------------------------------------------------------------------------------
#
# /site/scan/ works without JavaScript: the form posts here and ``services.redeem_once`` redeems
# under the idempotency key made when the form was shown (a form sent twice redeems once).
# static/js/scan.js adds the camera, the hand scanner, the offline queue (IndexedDB) and posts
# each scan to POST /api/v1/redemptions; static/js/scan-sw.js keeps the page available offline.

SCAN_CHOICE_KEY = "passnum_scan_choice"
SCAN_ASSETS = (
    "css/passnum.css",
    "css/mediators.css",
    "css/scan.css",
    "vendor/htmx.min.js",
    "vendor/qr-scanner/qr-scanner.umd.min.js",
    "js/scan.js",
)
SCAN_NEXT_ACTIONS = {
    "success": "Rendez le service à la personne, puis scannez le pass suivant.",
    "code_malformed": "Scannez à nouveau le QR code ou le code-barres, ou tapez le code imprimé sur le pass.",
    "code_mistyped": "Vérifiez chaque caractère du code et tapez-le à nouveau, ou scannez le pass.",
    "pass_unknown": "Vérifiez qu'il s'agit bien d'un Pass numérique ; sinon, ce pass ne paie pas le service.",
    "pass_not_active": "Invitez la personne à revoir le prescripteur qui lui a remis le carnet.",
    "pass_already_redeemed": "Ne rendez pas le service au titre de ce pass : demandez un autre pass du carnet.",
    "pass_expired": "Ce pass ne peut plus servir : demandez un autre pass encore valable.",
    "pass_cancelled": "Ce pass ne peut pas servir : orientez la personne vers son prescripteur.",
    "site_not_qualified": "Contactez l'opérateur du Pass numérique.",
    "site_suspended": "Contactez l'opérateur du Pass numérique.",
    "service_not_in_catalogue": "Choisissez un service de votre catalogue, puis scannez à nouveau.",
    "service_not_eligible": "Choisissez un autre service, financé par ce programme, puis scannez à nouveau.",
    "site_out_of_territory": "Orientez la personne vers un lieu de son territoire (« Où utiliser mon pass »).",
    "passes_from_different_booklets": "Scannez à nouveau des pass tous issus du même carnet.",
    "wrong_pass_count": "Scannez à nouveau le nombre de pass que demande ce service.",
    "point_of_presence_unknown": "Choisissez un de vos lieux dans la liste, puis scannez à nouveau.",
    "beneficiary_share_invalid": "Corrigez le reste à charge, puis scannez à nouveau.",
    "scanned_at_invalid": "Vérifiez la date et l'heure de l'appareil, puis scannez à nouveau.",
    "idempotency_key_reused": "Rechargez la page, puis scannez à nouveau.",
    "rate_limited": "Attendez quelques minutes avant de scanner à nouveau.",
    "conflict": "Scannez à nouveau le pass.",
    "already_collected": "Scannez un autre pass du même carnet.",
}
SCAN_DEFAULT_NEXT = "Vérifiez le pass et réessayez, ou scannez le pass suivant."


def _scan_choices(site):
    points = list(site.points.filter(is_active=True).order_by("name"))
    items = list(site.catalogue.filter(is_active=True).select_related("service").order_by("service__code"))
    return points, items


def _scan_key():
    return f"form-{uuid.uuid4()}"


def scan_success(body):
    """The outcome panel of a redemption (the API's body): what static/js/scan.js shows too."""
    count = body["pass_count"]
    details = [
        f"Pass {', '.join(body['codes'])}",
        f"{body['service']['title']} — {body['point_of_presence']['name']}",
        f"Remboursé à la structure : {euros(body['amount_cents'])}",
    ]
    if body["beneficiary_share_cents"]:
        details.append(f"Reste à charge payé par la personne : {euros(body['beneficiary_share_cents'])}")
    undo_until = timezone.localtime(parse_datetime(body["undo_until"]))
    details.append(f"Annulable jusqu'au {undo_until:%d/%m/%Y à %H:%M}")
    return {
        "kind": "success",
        "title": "Pass encaissé" if count == 1 else f"{count} pass encaissés",
        "details": details,
        "next": SCAN_NEXT_ACTIONS["success"],
    }


def scan_refusal(error):
    """The outcome panel of a refusal (``{"code", "message", "codes"?}``)."""
    entries = error.get("codes") or []
    return {
        "kind": "refused",
        "title": "Encaissement refusé",
        "message": error["message"],
        "details": [f"Pass en cause : {', '.join(entries)}"] if entries else [],
        "next": SCAN_NEXT_ACTIONS.get(error["code"], SCAN_DEFAULT_NEXT),
        "code": error["code"],
    }


def _scan_form(points, items, *, choice, collected=(), key=None, code="", share=""):
    initial = {
        "point_of_presence": choice.get("point"),
        "service": choice.get("service"),
        "collected": " ".join(collected),
        "key": key or _scan_key(),
        "code": code,
        "beneficiary_share": share,
    }
    return forms.ScanForm(initial=initial, points=points, items=items)


def _scan_submit(request, form, points, items):
    """One code sent by the form → ``(outcome, next form, passes collected so far)``."""
    data = form.cleaned_data
    choice = {"point": data["point_of_presence"], "service": data["service"]}
    request.session[SCAN_CHOICE_KEY] = choice
    collected, entered = data["collected"], data["code"].strip()
    share_text = form.data.get("beneficiary_share", "")[:12]

    def following(outcome, *, keep=(), key=None, code="", share=""):
        return outcome, _scan_form(points, items, choice=choice, collected=keep, key=key, code=code, share=share), keep

    user_id, ip = request.user.pk, client_ip(request)
    try:
        check_lookups_allowed(user_id, ip)
    except DomainError as error:
        return following(scan_refusal(error.as_dict()["error"]), keep=collected, key=data["key"], code=entered)
    item = next((item for item in items if item.service.code == data["service"]), None)
    required = item.passes_required if item is not None else 1
    mistakes = (pass_codes.MALFORMED, pass_codes.MISTYPED)
    if len(collected) + 1 < required:
        # A service paid with several passes: each is tested now, all are redeemed together.
        parsed = pass_codes.parse(entered)
        if parsed.ok and parsed.code in {pass_codes.parse(text).code for text in collected}:
            outcome = {
                "kind": "refused",
                "title": "Pass déjà scanné",
                "message": "Ce pass est déjà scanné pour ce service.",
                "details": [],
                "next": SCAN_NEXT_ACTIONS["already_collected"],
            }
            return following(outcome, keep=collected, key=data["key"], share=share_text)
        try:
            pass_, refusal = services.check_pass_at_site(request.organisation, entered)
        except services.RedemptionRefused as error:
            if error.code in FAILED_LOOKUPS:
                count_failed_lookup(user_id, ip)
            code = entered if error.code in mistakes else ""
            return following(
                scan_refusal(error.as_dict()["error"]), keep=collected, key=data["key"], code=code, share=share_text
            )
        if refusal is not None:
            return following(
                scan_refusal(refusal.as_dict()["error"]), keep=collected, key=data["key"], share=share_text
            )
        collected = [*collected, pass_codes.grouped(pass_.code)]
        outcome = {
            "kind": "collecting",
            "title": f"{len(collected)} pass sur {required}",
            "details": [f"Pass {', '.join(collected)}"],
            "next": f"Scannez le pass suivant du même carnet (encore {required - len(collected)}).",
        }
        return following(outcome, keep=collected, key=data["key"], share=share_text)
    codes_entered = [*collected, entered]
    payload = {
        "codes": codes_entered,
        "service": data["service"],
        "point_of_presence": data["point_of_presence"],
        "beneficiary_share_cents": data["beneficiary_share"],
    }
    status, body = services.redeem_once(
        request.organisation,
        key=data["key"],
        request_hash=request_hash(payload),
        user=request.user,
        codes_entered=codes_entered,
        service_code=data["service"],
        point_id=data["point_of_presence"],
        beneficiary_share_cents=data["beneficiary_share"],
    )
    if status >= 400:
        error = body["error"]
        if error["code"] in FAILED_LOOKUPS:
            count_failed_lookup(user_id, ip)
        if error["code"] in mistakes:  # the code to correct stays in the field
            return following(scan_refusal(error), keep=collected, code=entered, share=share_text)
        return following(scan_refusal(error))
    return following(scan_success(body))


@site_required
def scan(request):
    """« Scanner des pass »: the place and the service, then a pass's code (camera, hand scanner
    or keyboard with static/js/scan.js; the form alone without it)."""
    site = current_site(request)
    allowed, refusal_code = selectors.can_redeem(site)
    points, items = _scan_choices(site)
    choice = request.session.get(SCAN_CHOICE_KEY) or {}
    ready = allowed and points and items
    outcome, collected, form = None, [], None
    if request.method == "POST" and ready:
        form = forms.ScanForm(request.POST, points=points, items=items)
        if form.is_valid():
            outcome, form, collected = _scan_submit(request, form, points, items)
        else:
            collected = form.cleaned_data.get("collected") or []
    if form is None:
        code = request.GET.get("code", "").strip()[:300]
        form = _scan_form(points, items, choice=choice, code=code)
        if code and ready:
            outcome = {
                "kind": "info",
                "title": "Pass prêt à encaisser",
                "details": [f"Code {code}"],
                "next": "Vérifiez le lieu et le service, puis appuyez sur « Encaisser ».",
            }
    config = {
        "api": reverse("api:redemptions"),
        "page": reverse("mediators:scan"),
        "service_worker": reverse("mediators:scan_service_worker"),
        "organisation": request.organisation.pk,
        "passes_required": {str(item.service.code): item.passes_required for item in items},
        "next_actions": SCAN_NEXT_ACTIONS,
        "default_next": SCAN_DEFAULT_NEXT,
    }
    cannot = None
    if not allowed:
        try:
            selectors.check_site_can_redeem(site)
        except DomainError as error:
            cannot = error.message
    return render(
        request,
        "mediators/scan.html",
        {
            "site": site,
            "form": form,
            "outcome": outcome,
            "collected": collected,
            "ready": ready,
            "allowed": allowed,
            "cannot_redeem": cannot,
            "points": points,
            "items": items,
            "scan_config": config,
        },
    )


def _scan_worker_source():
    path = finders.find("js/scan-sw.js")
    if path:
        return Path(path).read_text(encoding="utf-8")
    with staticfiles_storage.open("js/scan-sw.js") as handle:
        return handle.read().decode("utf-8")


@require_safe
def scan_service_worker(request):
    """static/js/scan-sw.js, served under /site/scan/ so that its scope covers the scan page,
    with the page's URL and its static files (their hashed names in production)."""
    files = [static(name) for name in SCAN_ASSETS]
    # qr-scanner imports its worker by a path relative to itself: "./qr-scanner-worker.min.js".
    scanner = static("vendor/qr-scanner/qr-scanner.umd.min.js")
    files.append(scanner.rsplit("/", 1)[0] + "/qr-scanner-worker.min.js")
    source = _scan_worker_source()
    config = {"page": reverse("mediators:scan"), "static": settings.STATIC_URL, "files": files}
    version = hashlib.sha256((json.dumps(config) + source).encode()).hexdigest()[:16]
    config["cache"] = f"passnum-scan-{version}"
    response = HttpResponse(
        f"const PASSNUM_SCAN = {json.dumps(config)};\n{source}", content_type="application/javascript; charset=utf-8"
    )
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = reverse("mediators:scan")
    return response


def pass_landing(request, code):
    """The URL printed in a pass's QR code (https://<host>/p/<code>). A member of a site that may
    redeem gets the scan page with the code filled in; anyone else sees what the pass is, whether
    it can be used, and where — no personal data, rate-limited like /verifier/."""
    code = code.strip().rstrip("/")[:300]
    organisation = getattr(request, "organisation", None)
    site_cannot_redeem = False
    if request.user.is_authenticated and organisation is not None and organisation.kind == OrganisationKind.SITE:
        if selectors.can_redeem(selectors.site_of(organisation))[0]:
            return redirect(f"{reverse('mediators:scan')}?{urlencode({'code': code})}")
        site_cannot_redeem = True
    if per_ip_limit_reached(request, "verifier", VERIFY_PER_MINUTE):
        return render(request, "429.html", status=429)
    return render(
        request,
        "mediators/pass_landing.html",
        {"code": code, "result": pass_or_booklet_status(code), "site_cannot_redeem": site_cannot_redeem},
    )


# --- redemptions (site space) ----------------------------------------------------------------
#
# « Encaissements »: the site's redemptions by month, #APTIC service and place, with their totals,
# a CSV of the filtered month for the site's accounting, and the undo of a mistaken redemption
# within 24 hours (``services.undo_redemption`` decides). « Scans refusés »: what the redemption
# refused, with the French reason it gave.

REFUSAL_LABELS = {
    "code_malformed": "Code illisible",
    "code_mistyped": "Faute de frappe dans le code",
    "pass_unknown": "Pass inconnu",
    "pass_not_active": "Pass pas encore utilisable",
    "pass_already_redeemed": "Pass déjà encaissé",
    "pass_expired": "Pass expiré",
    "pass_cancelled": "Pass annulé",
    "site_not_qualified": "Structure non qualifiée",
    "site_suspended": "Structure suspendue",
    "service_not_in_catalogue": "Service hors de votre catalogue",
    "service_not_eligible": "Service non financé par le programme",
    "site_out_of_territory": "Lieu hors du territoire du programme",
    "passes_from_different_booklets": "Pass de carnets différents",
    "wrong_pass_count": "Nombre de pass incorrect",
    "point_of_presence_unknown": "Lieu inconnu",
    "beneficiary_share_invalid": "Reste à charge incorrect",
    "scanned_at_invalid": "Date de scan incorrecte",
    "idempotency_key_reused": "Demande déjà envoyée",
    "rate_limited": "Trop de codes erronés",
    "conflict": "Pass modifié au même moment",
}
REDEMPTIONS_CSV_HEADER = [
    "Date d'encaissement",
    "Identifiant",
    "Codes des pass",
    "Carnet",
    "Programme",
    "Code du service #APTIC",
    "Service",
    "Lieu",
    "Nombre de pass",
    "Montant remboursable (€)",
    "Reste à charge payé par la personne (€)",
    "Encaissé par",
    "Statut",
    "Annulé le",
    "Réglé sur un relevé le",
]
# A spreadsheet would run a cell starting with one of these as a formula.
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _shift_month(month, delta):
    """The first day of the month ``delta`` months after ``month`` (a first day)."""
    index = month.year * 12 + month.month - 1 + delta
    return month.replace(year=index // 12, month=index % 12 + 1, day=1)


def _redemption_codes(redemption):
    return [pass_codes.grouped(line.pass_ref.code) for line in redemption.lines.all()]


def _catalogue_services(site):
    """The #APTIC services of the site's catalogue (entries withdrawn since included), once each."""
    items = CatalogueItem.objects.filter(site=site).select_related("service").order_by("service__code")
    return list({item.service.code: item.service for item in items}.values())


def _csv_text(value):
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(CSV_FORMULA_START) else text


def _csv_euros(cents):
    return f"{cents // 100},{cents % 100:02d}"


def _csv_date(moment):
    return f"{timezone.localtime(moment):%d/%m/%Y %H:%M}" if moment else ""


def _redemptions_csv(redemptions, month):
    """The filtered month as CSV for the site's accounting: semicolons, decimal commas and a
    byte-order mark, as French spreadsheets expect."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"encaissements-{month:%Y-%m}.csv")
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";", lineterminator="\r\n")
    writer.writerow(REDEMPTIONS_CSV_HEADER)
    for redemption in redemptions.iterator(chunk_size=500):
        writer.writerow(
            [
                _csv_date(redemption.redeemed_at),
                str(redemption.pk),
                " ".join(_redemption_codes(redemption)),
                _csv_text(redemption.booklet.serial),
                _csv_text(redemption.programme.name),
                redemption.service.code,
                _csv_text(redemption.service.title),
                _csv_text(redemption.point_of_presence.name),
                redemption.pass_count,
                _csv_euros(redemption.amount_cents),
                _csv_euros(redemption.beneficiary_share_cents),
                _csv_text(redemption.redeemed_by or ""),
                "en vigueur" if redemption.undone_at is None else "annulé",
                _csv_date(redemption.undone_at),
                _csv_date(redemption.settled_at),
            ]
        )
    return response


@site_required
def redemptions(request):
    """« Encaissements »: one month (the current one by default), by service and place."""
    site = current_site(request)
    points = list(site.points.order_by("-is_active", "name"))
    current = timezone.localdate().replace(day=1)
    data = request.GET.copy()
    data.setdefault("month", f"{current:%Y-%m}")  # the field shows the month on screen
    form = forms.RedemptionFilterForm(data, services=_catalogue_services(site), points=points)
    form.is_valid()  # a wrong value is shown on its field and left out of the filter
    criteria = form.cleaned_data
    month = criteria.get("month") or current
    service_code, point_id = criteria.get("service"), criteria.get("point")
    queryset = selectors.redemptions_of(request.organisation, month=month, service_code=service_code, point_id=point_id)
    queryset = queryset.order_by("-redeemed_at", "pk")  # a stable order across pages
    if request.GET.get("format") == "csv":
        return _redemptions_csv(queryset, month)

    filters = {"month": f"{month:%Y-%m}"}
    if service_code is not None:
        filters["service"] = service_code
    if point_id is not None:
        filters["point"] = point_id

    def month_link(label, other):
        return {"label": label, "month": other, "query": urlencode({**filters, "month": f"{other:%Y-%m}"})}

    month_links = [month_link("Mois précédent", _shift_month(month, -1))]
    if month < current:
        month_links.append(month_link("Mois suivant", _shift_month(month, 1)))
    if month != current:
        month_links.append(month_link("Mois en cours", current))
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [
        {
            "redemption": redemption,
            "codes": _redemption_codes(redemption),
            "undoable": selectors.is_undoable(redemption, now),
        }
        for redemption in page
    ]
    return render(
        request,
        "mediators/redemptions.html",
        {
            "site": site,
            "form": form,
            "page": page,
            "rows": rows,
            "month": month,
            "month_links": month_links,
            "filtered": service_code is not None or point_id is not None,
            "totals": selectors.redemption_totals(queryset),
            "query": urlencode(filters),
            "unfiltered_query": urlencode({"month": filters["month"]}),
            "csv_query": urlencode({**filters, "format": "csv"}),
        },
    )


@site_required
def redemption_undo(request, pk):
    """Confirmation page of the undo of a redemption; the POST undoes it, or says why not."""
    redemption = get_for_organisation_or_404(
        Redemption.objects.select_related("service", "point_of_presence", "booklet", "redeemed_by").prefetch_related(
            "lines__pass_ref"
        ),
        request.organisation,
        pk=pk,
    )
    month_query = urlencode({"month": f"{timezone.localtime(redemption.redeemed_at):%Y-%m}"})
    back_url = f"{reverse('mediators:redemptions')}?{month_query}"
    refusal = None
    if request.method == "POST":
        try:
            services.undo_redemption(request.organisation, redemption.pk, user=request.user)
        except services.RedemptionRefused as error:
            refusal = error.message
        else:
            count = redemption.pass_count
            freed = (
                "le pass est de nouveau utilisable" if count == 1 else f"les {count} pass sont de nouveau utilisables"
            )
            messages.success(request, f"L'encaissement est annulé : {freed}.")
            return redirect(back_url)
    return render(
        request,
        "mediators/redemption_undo.html",
        {
            "redemption": redemption,
            "codes": _redemption_codes(redemption),
            "undoable": refusal is None and selectors.is_undoable(redemption),
            "undo_until": redemption.redeemed_at + selectors.UNDO_WINDOW,
            "refusal": refusal,
            "back_url": back_url,
        },
    )


@site_required
def refused_scans(request):
    """« Scans refusés »: each refused scan with its reason, filtered by reason."""
    scans = selectors.refused_scans_of(request.organisation)
    codes = scans.order_by().values_list("reason", flat=True).distinct()
    reasons = sorted(((code, REFUSAL_LABELS.get(code, code)) for code in codes), key=lambda choice: choice[1])
    form = forms.RefusedScanFilterForm(request.GET, reasons=reasons)
    reason = form.cleaned_data.get("reason") if form.is_valid() else None
    if reason:
        scans = scans.filter(reason=reason)
    page = Paginator(scans, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "mediators/refused_scans.html",
        {
            "form": form,
            "page": page,
            "reason": reason,
            "reason_label": REFUSAL_LABELS.get(reason, reason) if reason else "",
            "query": urlencode({"reason": reason}) if reason else "",
        },
    )

"""Redeeming in the site space: the scan page and its service worker, the QR code's landing
page /p/<code>, the site's redemptions (list, CSV, undo) and refused scans.
"""

import hashlib
import json
import uuid
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from beneficiaries.selectors import may_look_up_serials, pass_or_booklet_status
from clearing.money import euros
from mediators.places.models import CatalogueItem
from mediators.qualification import selectors as qualification_selectors
from mediators.redemption import forms, selectors, services
from mediators.redemption.models import Redemption
from mediators.space import PAGE_SIZE, current_site, site_required
from passnum import csv_export
from passnum.api import request_hash
from passnum.audit.services import record_download
from passnum.errors import DomainError
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.tenancy import get_for_organisation_or_404
from passnum.passes import codes as pass_codes
from passnum.passes.downloads import never_stored
from passnum.ratelimit import (
    VERIFY_PER_MINUTE,
    check_lookups_allowed,
    count_failed_lookup,
    lookup_caller,
    per_ip_limit_reached,
)
from passnum.refusals import FAILED_LOOKUPS, Refusal

SCAN_CHOICE_KEY = "passnum_scan_choice"


SCAN_ASSETS = (
    "css/passnum.css",
    "css/mediators.css",
    "css/scan.css",
    "vendor/htmx.min.js",
    "vendor/qr-scanner/qr-scanner.umd.min.js",
    "js/scan.js",
)


#: What the person at the scanner does after a redemption (a refusal's next action is its own).
SCAN_NEXT_AFTER_SUCCESS = "Rendez le service à la personne, puis scannez le pass suivant."


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
        "next": SCAN_NEXT_AFTER_SUCCESS,
    }


def _next_action(code):
    try:
        return Refusal(code).next_action
    except ValueError:  # a code this version does not know (an older or newer device)
        return SCAN_DEFAULT_NEXT


def _refusal_label(code):
    try:
        return Refusal(code).label
    except ValueError:
        return code


def scan_refusal(error):
    """The outcome panel of a refusal (``{"code", "message", "codes"?}``)."""
    entries = error.get("codes") or []
    return {
        "kind": "refused",
        "title": "Encaissement refusé",
        "message": error["message"],
        "details": [f"Pass en cause : {', '.join(entries)}"] if entries else [],
        "next": _next_action(error["code"]),
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

    caller = lookup_caller(request)
    try:
        check_lookups_allowed(caller)
    except DomainError as error:
        return following(scan_refusal(error.as_dict()["error"]), keep=collected, key=data["key"], code=entered)
    item = next((item for item in items if item.service.code == data["service"]), None)
    required = item.passes_required if item is not None else 1
    mistakes = (Refusal.CODE_MALFORMED, Refusal.CODE_MISTYPED)
    if len(collected) + 1 < required:
        # A service paid with several passes: each is tested now, all are redeemed together.
        parsed = pass_codes.parse(entered)
        if parsed.ok and parsed.code in {pass_codes.parse(text).code for text in collected}:
            outcome = {
                "kind": "refused",
                "title": "Pass déjà scanné",
                "message": "Ce pass est déjà scanné pour ce service.",
                "details": [],
                "next": Refusal.ALREADY_COLLECTED.next_action,
            }
            return following(outcome, keep=collected, key=data["key"], share=share_text)
        try:
            pass_, refusal = services.check_pass_at_site(request.organisation, entered)
        except services.RedemptionRefused as error:
            if error.code in FAILED_LOOKUPS:
                count_failed_lookup(caller)
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
    body = json.loads(body)  # the answer as the API sends it
    if status >= 400:
        error = body["error"]
        if error["code"] in FAILED_LOOKUPS:
            count_failed_lookup(caller)
        if error["code"] in mistakes:  # the code to correct stays in the field
            return following(scan_refusal(error), keep=collected, code=entered, share=share_text)
        return following(scan_refusal(error))
    return following(scan_success(body))


@site_required
def scan(request):
    """« Scanner des pass »: the place and the service, then a pass's code (camera, hand scanner
    or keyboard with static/js/scan.js; the form alone without it)."""
    site = current_site(request)
    allowed, refusal_code = qualification_selectors.can_redeem(site)
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
        # What to do next, after a redemption (« success ») and after each refusal.
        "next_actions": {"success": SCAN_NEXT_AFTER_SUCCESS}
        | {refusal.value: refusal.next_action for refusal in Refusal},
        "default_next": SCAN_DEFAULT_NEXT,
    }
    cannot = None
    if not allowed:
        try:
            qualification_selectors.check_site_can_redeem(site)
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
        if qualification_selectors.can_redeem(qualification_selectors.site_of(organisation))[0]:
            return redirect(f"{reverse('mediators:scan')}?{urlencode({'code': code})}")
        site_cannot_redeem = True
    if per_ip_limit_reached(request, "verifier", VERIFY_PER_MINUTE):
        return render(request, "429.html", status=429)
    return render(
        request,
        "mediators/pass_landing.html",
        {
            "code": code,
            "result": pass_or_booklet_status(
                code, serials_allowed=may_look_up_serials(user=request.user, organisation=organisation)
            ),
            "site_cannot_redeem": site_cannot_redeem,
        },
    )


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
    return "" if value is None else str(value)  # escaped by passnum.csv_export, as every cell


def _csv_euros(cents):
    return f"{cents // 100},{cents % 100:02d}"


def _csv_date(moment):
    return f"{timezone.localtime(moment):%d/%m/%Y %H:%M}" if moment else ""


def _redemptions_csv(request, redemptions, month):
    """The filtered month as CSV for the site's accounting: semicolons, decimal commas and a
    byte-order mark, as French spreadsheets expect. Each export is written to the audit log."""
    file_name = f"encaissements-{month:%Y-%m}.csv"
    record_download(
        request=request, kind="mediators.redemptions_csv", organisation=request.organisation, file_name=file_name
    )
    # Pass codes and amounts: never kept by a browser or a proxy cache.
    response = never_stored(HttpResponse(content_type="text/csv; charset=utf-8"))
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    response.write("\ufeff")
    writer = csv_export.writer(response, delimiter=";", lineterminator="\r\n")
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
        return _redemptions_csv(request, queryset, month)

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
    reasons = sorted(((code, _refusal_label(code)) for code in codes), key=lambda choice: choice[1])
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
            "reason_label": _refusal_label(reason) if reason else "",
            "query": urlencode({"reason": reason}) if reason else "",
        },
    )

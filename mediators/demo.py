"""Demo: a dozen qualified sites in Gironde (33) and Haute-Garonne (31) with their places,
catalogues and upcoming workshops, one application awaiting review and one suspended site.
The core demo's « Espace numérique de Talence » is one of the qualified sites. Idempotent."""

import datetime
from decimal import Decimal

from django.utils import timezone

from aptic_catalog.models import Service
from aptic_catalog.services import ensure_referential_loaded
from clearing.payees.models import PayeeAccount, PayeeStatus
from mediators.places.models import CatalogueItem, PointOfPresence, Workshop
from mediators.qualification.models import (
    Answer,
    Choice,
    DocumentKind,
    QualificationStatus,
    Question,
    SchemeSettings,
    Site,
    SiteAudience,
    SiteStatusChange,
    SupportingDocument,
)
from mediators.redemption import services as redemption_services
from mediators.redemption.models import Redemption
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.models import Organisation
from passnum.organisations.validators import siret_from_prefix
from passnum.passes import selectors as pass_selectors

# name, SIRET prefix, legal form, sector, status, audiences,
# (place name, address, postcode, commune, INSEE, latitude, longitude, hours, phone)
SITES = [
    (
        "Médiathèque de Pessac",
        "213303180001",
        "commune",
        "public",
        "qualified",
        ["seniors", "families"],
        (
            "Médiathèque Jacques-Ellul",
            "21 rue de Camponac",
            "33600",
            "Pessac",
            "33318",
            "44.8011",
            "-0.6319",
            "Tu-Sa 10:00-18:00",
            "0557930010",
        ),
    ),
    (
        "Centre social du Grand Parc",
        "780331020001",
        "association",
        "private",
        "qualified",
        ["job_seekers", "minimum_income"],
        (
            "Centre social du Grand Parc",
            "36 rue Robert Schuman",
            "33300",
            "Bordeaux",
            "33063",
            "44.8603",
            "-0.5730",
            "Mo-Fr 09:00-12:30,13:30-18:00",
            "0556500101",
        ),
    ),
    (
        "Cyber-base de Mérignac",
        "213302810001",
        "commune",
        "public",
        "qualified",
        ["seniors"],
        (
            "Cyber-base du Burck",
            "4 rue Jean Giono",
            "33700",
            "Mérignac",
            "33281",
            "44.8290",
            "-0.6545",
            "Mo-Fr 14:00-18:00; Sa 09:00-12:00",
            "0556120202",
        ),
    ),
    (
        "Association Clic'Entraide Bègles",
        "780331040001",
        "association",
        "private",
        "qualified",
        ["youth", "women"],
        (
            "Atelier numérique de Bègles",
            "77 rue Marcel Sembat",
            "33130",
            "Bègles",
            "33039",
            "44.8085",
            "-0.5490",
            "Mo-Th 09:00-17:00",
            "0556850303",
        ),
    ),
    (
        "Espace numérique de Libourne",
        "213302430001",
        "commune",
        "public",
        "qualified",
        ["seniors", "priority_areas"],
        (
            "Espace numérique du Verdet",
            "45 allées Robert Boulin",
            "33500",
            "Libourne",
            "33243",
            "44.9150",
            "-0.2440",
            "Tu-Fr 09:00-12:00,14:00-17:00",
            "0557550404",
        ),
    ),
    (
        "CCAS d'Arcachon",
        "263300090001",
        "ccas",
        "public",
        "qualified",
        ["seniors", "disability"],
        (
            "CCAS d'Arcachon",
            "1 avenue du Général de Gaulle",
            "33120",
            "Arcachon",
            "33009",
            "44.6586",
            "-1.1689",
            "Mo-Fr 08:30-12:00",
            "0557520505",
        ),
    ),
    (
        "Quai des Savoirs numériques",
        "780311010001",
        "association",
        "private",
        "qualified",
        ["students", "youth"],
        (
            "Quai des Savoirs numériques",
            "39 allées Jules Guesde",
            "31000",
            "Toulouse",
            "31555",
            "43.5943",
            "1.4518",
            "Mo-Sa 10:00-18:00",
            "0561000606",
        ),
    ),
    (
        "Médiathèque de Colomiers",
        "213101490001",
        "commune",
        "public",
        "qualified",
        ["families", "seniors"],
        (
            "Médiathèque Pavillon Blanc",
            "1 place Alex Raymond",
            "31770",
            "Colomiers",
            "31149",
            "43.6112",
            "1.3347",
            "Tu-Sa 10:00-19:00",
            "0561630707",
        ),
    ),
    (
        "Maison de quartier Empalot",
        "780311030001",
        "association",
        "private",
        "qualified",
        ["priority_areas", "job_seekers"],
        (
            "Maison de quartier Empalot",
            "38 avenue Jean Moulin",
            "31400",
            "Toulouse",
            "31555",
            "43.5805",
            "1.4530",
            "Mo-Fr 09:00-18:00",
            "0561250808",
        ),
    ),
    (
        "Tiers-lieu numérique de Muret",
        "780311040001",
        "cooperative",
        "private",
        "qualified",
        ["youth"],
        (
            "La Fabrique de Muret",
            "12 rue Saint-Germier",
            "31600",
            "Muret",
            "31395",
            "43.4610",
            "1.3270",
            "We-Sa 10:00-18:00",
            "0561510909",
        ),
    ),
    (
        "Espace France Services de Saint-Gaudens",
        "213104830001",
        "commune",
        "public",
        "qualified",
        ["seniors", "minimum_income"],
        (
            "France Services Saint-Gaudens",
            "2 place du Pilat",
            "31800",
            "Saint-Gaudens",
            "31483",
            "43.1080",
            "0.7230",
            "Mo-Fr 08:30-12:30,13:30-17:00",
            "0561891010",
        ),
    ),
    (
        "Association Seniors Connectés Blagnac",
        "780311060001",
        "association",
        "private",
        "submitted",
        ["seniors"],
        (
            "Salle des associations de Blagnac",
            "3 avenue du Général de Gaulle",
            "31700",
            "Blagnac",
            "31069",
            "43.6370",
            "1.3900",
            "Mo 14:00-17:00",
            "0561711111",
        ),
    ),
    (
        "Cybercafé solidaire de Cenon",
        "780331070001",
        "association",
        "private",
        "suspended",
        ["youth"],
        (
            "Cybercafé solidaire",
            "5 rue Camille Pelletan",
            "33150",
            "Cenon",
            "33119",
            "44.8570",
            "-0.5310",
            "Mo-Fr 10:00-17:00",
            "0556861212",
        ),
    ),
]

TALENCE_PLACE = (
    "Espace numérique de Talence",
    "12 rue Paul Bert",
    "33400",
    "Talence",
    "33522",
    "44.8083",
    "-0.5880",
    "Mo-Fr 09:00-12:00,14:00-18:00; Sa 09:00-12:00",
    "0556840000",
)

CATALOGUE_CODES = [
    (3, "individual", 1),
    (24, "individual", 1),
    (42, "collective", 1),
    (84, "individual", 2),
    (99, "collective", 1),
]


def _place(site, place):
    name, address, postcode, commune, insee, lat, lon, hours, phone = place
    point, _ = PointOfPresence.objects.get_or_create(
        site=site,
        name=name,
        defaults={
            "address": address,
            "postcode": postcode,
            "commune": commune,
            "insee_code": insee,
            "latitude": Decimal(lat),
            "longitude": Decimal(lon),
            "opening_hours": hours,
            "phone": phone,
            "email": f"accueil-{site.organisation.siret[-6:]}@demo.passnum.fr",
            "wheelchair_accessible": True,
            "hearing_support": int(site.organisation.siret[-3]) % 2 == 0,
            "literacy_support": site.sector == "private",
        },
    )
    return point


def _site(organisation, legal_form, sector, status, audiences, place):
    site, created = Site.objects.get_or_create(
        organisation=organisation,
        defaults={
            "legal_form": legal_form,
            "sector": sector,
            "status": status,
            "presentation": f"{organisation.name} accompagne chacun dans ses usages du numérique.",
            "charter_version": SchemeSettings.load().charter_version,
            "charter_accepted_at": timezone.now(),
            "submitted_at": timezone.now(),
        },
    )
    if created:
        if status in (QualificationStatus.QUALIFIED, QualificationStatus.SUSPENDED):
            site.qualified_at = timezone.now()
            site.save(update_fields=["qualified_at"])
        SiteStatusChange.objects.create(site=site, to_status=QualificationStatus.SUBMITTED)
        if status != QualificationStatus.SUBMITTED:
            SiteStatusChange.objects.create(
                site=site,
                from_status=QualificationStatus.SUBMITTED,
                to_status=QualificationStatus.QUALIFIED,
                reason="Dossier complet (démo).",
            )
        if status == QualificationStatus.SUSPENDED:
            site.decision_reason = "Abonnement impayé et lieu injoignable depuis trois mois (démo)."
            site.save(update_fields=["decision_reason"])
            SiteStatusChange.objects.create(
                site=site,
                from_status=QualificationStatus.QUALIFIED,
                to_status=QualificationStatus.SUSPENDED,
                reason=site.decision_reason,
            )
    for audience in audiences:
        SiteAudience.objects.get_or_create(site=site, audience=audience)
    point = _place(site, place)
    for code, fmt, passes in CATALOGUE_CODES:
        CatalogueItem.objects.get_or_create(
            site=site,
            service=Service.objects.get(code=code),
            defaults={
                "format": fmt,
                "passes_required": passes,
                "duration_minutes": 120 if fmt == "collective" else 60,
                "tariff_cents": 1000 * passes,
            },
        )
    for question in Question.objects.filter(is_active=True):
        best = Choice.objects.filter(question=question).order_by("-points").first()
        if best is not None:
            Answer.objects.get_or_create(site=site, question=question, defaults={"choice": best})
    if site.questionnaire_score is None:
        site.questionnaire_score = sum(a.choice.points for a in site.answers.select_related("choice"))
        site.save(update_fields=["questionnaire_score"])
    PayeeAccount.objects.get_or_create(
        organisation=organisation,
        version=1,
        defaults={
            "payee_kind": "self" if sector == "private" else "treasurer_regie",
            "holder_name": organisation.name if sector == "private" else "Trésor public — régie de recettes",
            "iban": "FR7630006000011234567890189",
            "bic": "AGRIFRPPXXX",
            "status": PayeeStatus.VERIFIED if status == QualificationStatus.QUALIFIED else PayeeStatus.TO_VERIFY,
        },
    )
    if not SupportingDocument.objects.filter(site=site).exists():
        from django.core.files.base import ContentFile

        document = SupportingDocument(
            site=site, kind=DocumentKind.STATUTES, original_name="statuts.pdf", content_type="application/pdf", size=0
        )
        content = b"%PDF-1.4\n% statuts de demonstration\n%%EOF\n"
        document.size = len(content)
        document.file.save("statuts.pdf", ContentFile(content), save=False)
        document.save()
    if status == QualificationStatus.QUALIFIED and not Workshop.objects.filter(site=site).exists():
        base = timezone.localtime().replace(hour=14, minute=0, second=0, microsecond=0)
        for days, code, level in ((3, 42, "beginner"), (10, 99, "intermediate"), (24, 42, "beginner")):
            Workshop.objects.create(
                site=site,
                point_of_presence=point,
                service=Service.objects.get(code=code),
                starts_at=base + datetime.timedelta(days=days),
                duration_minutes=120,
                seats=8,
                level=level,
            )
    return site


def build(context):
    ensure_referential_loaded()
    output = []
    talence = context.organisations["site"]
    site = _site(talence, "commune", "public", QualificationStatus.QUALIFIED, ["seniors", "youth"], TALENCE_PLACE)
    output.append({"name": site.organisation.name, "status": site.status, "admin_email": "site@demo.passnum.fr"})
    for name, prefix, legal_form, sector, status, audiences, place in SITES:
        organisation, _ = Organisation.objects.get_or_create(
            siret=siret_from_prefix(prefix),
            defaults={
                "kind": OrganisationKind.SITE,
                "name": name,
                "address": place[1],
                "postcode": place[2],
                "city": place[3],
                "email": f"contact-{prefix}@demo.passnum.fr",
            },
        )
        site = _site(organisation, legal_form, sector, status, audiences, place)
        output.append({"name": organisation.name, "status": site.status})
    context.output["sites"] = output
    context.output["redeemable_passes"] = _redemptions(context, Site.objects.get(organisation=talence))


# --- a month of redemptions at Talence, and passes left to redeem ------------------------------

REDEMPTION_DAYS = 30
REDEMPTIONS = 24


def _redemptions(context, site):
    """Passes of the booklets handed out by the demo's prescriber, redeemed at Talence over the
    last month (the demo is built today: the dates are spread for the lists by month)."""
    point = site.points.order_by("pk").first()
    single = site.catalogue.filter(passes_required=1, is_active=True).order_by("service__code").first()
    user = context.users.get("site@demo.passnum.fr")
    booklets = list(
        pass_selectors.booklets_held_by(context.organisations["prescriber"])
        .filter(state="handed_out")
        .order_by("serial")
    )
    if point is None or single is None or not booklets:
        return []
    if not Redemption.objects.filter(site=site).exists():
        now = timezone.now()
        for i in range(REDEMPTIONS):
            booklet = booklets[i % len(booklets)]
            pass_ = booklet.passes.filter(state="active").order_by("position").first()
            when = now - datetime.timedelta(days=REDEMPTION_DAYS * i / REDEMPTIONS, hours=i % 5)
            redemption_services.redeem(
                site.organisation,
                user=user,
                codes_entered=[pass_.code],
                service_code=single.service.code,
                point_id=point.pk,
                beneficiary_share_cents=0,
                now=when,
            )
    _refused_scans(site, point, single, user)
    redeemable = []
    for booklet in reversed(booklets):
        for code in booklet.passes.filter(state="active").order_by("-position").values_list("code", flat=True)[:2]:
            redeemable.append(
                {
                    "code": code,
                    "site_email": "site@demo.passnum.fr",
                    "service": single.service.code,
                    "point_of_presence": point.pk,
                }
            )
        if len(redeemable) >= 10:
            break
    return redeemable


def _refused_scans(site, point, item, user):
    """Two refused scans (a typo, a pass already redeemed), logged as the scan page logs them."""
    redeemed = Redemption.objects.filter(site=site).select_related("booklet").order_by("redeemed_at").first()
    code = redeemed.booklet.passes.filter(state="redeemed").values_list("code", flat=True).first()
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    for key, entered in (("demo-refus-faute", typo), ("demo-refus-deja", code)):
        redemption_services.redeem_once(
            site.organisation,
            key=key,
            request_hash=key,
            user=user,
            codes_entered=[entered],
            service_code=item.service.code,
            point_id=point.pk,
        )

"""Demo of the business grant: the Collectivité Territoriale de Martinique (a sponsor, and the
instructing authority) with its « Pass numérique entreprises » scheme, and four applications —
one granted with one instalment accepted and paid by a SEPA batch, one refused (equipment at 40 % of the
expenditure), one awaiting more information from the company, one draft. Accounts: the
instructing service (instructeur@) and a company (entreprise@, administrator of the granted
company and of the one whose application is a draft).

Idempotent: the scheme is found again by its sponsor and name; each company's application is
created only when that company has none.
"""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from clearing.payees.models import PayeeKind
from clearing.payees.services import set_payee_account, verify_payee_account
from clearing.payments import selectors as payout_selectors
from clearing.payments import services as payment_services
from passnum.demo import _organisation
from passnum.organisations.enums import OrganisationKind, Role
from passnum.organisations.models import Membership
from sponsors.grants import services
from sponsors.grants.enums import ExpenditureCategory
from sponsors.grants.models import GrantApplication, GrantScheme

SCHEME_NAME = "Pass numérique entreprises — transformation numérique"
PDF = b"%PDF-1.4\n% piece de demonstration\n%%EOF\n"

COMPANIES = {
    # key: (name, SIRET prefix, postcode, city, INSEE code, NAF code); the first is the demo
    # account's company, created with the core organisations (passnum/demo.py).
    "granted": ("Atelier Madinina", "972000010001", "97200", "Fort-de-France", "97209", "47.71Z"),
    "refused": ("Caraïbes Bois Créations", "972000020001", "97232", "Le Lamentin", "97213", "16.23Z"),
    "info": ("Kréyol Digital", "972000030001", "97220", "La Trinité", "97230", "73.11Z"),
    "draft": ("Ti Kaz Numérik", "972000040001", "97200", "Fort-de-France", "97209", "56.10A"),
}

PLANS = {
    "granted": [
        (ExpenditureCategory.EXTERNAL_SERVICE, "Agence Web Caraïbe", "Site marchand", 700_000),
        (ExpenditureCategory.SOFTWARE, "Logiciels Antilles", "Caisse en ligne, 2 ans", 200_000),
        (ExpenditureCategory.EQUIPMENT, "Informatique 972", "Deux ordinateurs portables", 250_000),
    ],
    # 4 000 € of equipment on 10 000 €: 40 %.
    "refused": [
        (ExpenditureCategory.EQUIPMENT, "Informatique 972", "Postes et écrans", 400_000),
        (ExpenditureCategory.TRAINING, "Formation Numérique Martinique", "Formation de l'équipe", 300_000),
        (ExpenditureCategory.EXTERNAL_SERVICE, "Agence Web Caraïbe", "Refonte du site", 300_000),
    ],
    "info": [
        (ExpenditureCategory.EXTERNAL_SERVICE, "Conseil Digital Antilles", "Stratégie et réseaux sociaux", 850_000),
        (ExpenditureCategory.TRAINING, "Formation Numérique Martinique", "Community management", 150_000),
    ],
    "draft": [
        (ExpenditureCategory.EXTERNAL_SERVICE, "Agence Web Caraïbe", "Réservation en ligne", 600_000),
    ],
}


def _scheme(sponsor, by):
    scheme = GrantScheme.objects.filter(sponsor=sponsor, name=SCHEME_NAME).first()
    if scheme is not None:
        return scheme
    return services.save_scheme(
        sponsor=sponsor,
        by=by,
        fields={
            "name": SCHEME_NAME,
            "min_amount_cents": 800_000,
            "max_amount_cents": 1_000_000,
            "headcount_limit": 30,
            "equipment_cap_bp": 2500,
            "max_duration_months": 24,
            "renewal_after_months": 24,
            "departments": ["972"],
            "required_documents": GrantScheme._meta.get_field("required_documents").get_default(),
            "president_title": "Monsieur le Président du Conseil exécutif de Martinique",
            "contact_service": "Direction des filières numériques et du très haut débit — Service du développement "
            "de l'économie numérique",
            "contact_email": "economie.numerique@demo.passnum.fr",
            "contact_phone": "05 96 59 98 53",
            "contact_address": "Hôtel de la Collectivité Territoriale de Martinique\nRue Gaston Defferre — Cluny — "
            "CS 30137\n97201 Fort-de-France Cedex",
            "is_open": True,
        },
    )


def _fill(application, key, by):
    today = timezone.localdate()
    name, *_rest, insee, naf = COMPANIES[key]
    start = today + datetime.timedelta(days=45)
    services.save_draft(
        application=application,
        by=by,
        fields={
            "headcount": {"granted": 8, "refused": 14, "info": 5, "draft": 3}[key],
            "naf_code": naf,
            "turnover_cents": {"granted": 42_000_000, "refused": 95_000_000, "info": 18_000_000, "draft": None}[key],
            "commune_code": insee,
            "project_title": {
                "granted": "Boutique en ligne et caisse connectée",
                "refused": "Atelier connecté et nouveau site",
                "info": "Présence en ligne et réseaux sociaux",
                "draft": "Réservation en ligne",
            }[key],
            "project_description": f"Projet de transformation numérique de {name}.",
            "strategic_stakes": "Toucher la clientèle hors de l'île et moderniser les outils de l'entreprise.",
            "expected_growth": "Une hausse du chiffre d'affaires de 20 % en deux ans et une embauche.",
            "start_date": start,
            "end_date": start + datetime.timedelta(days=365),
            "requested_amount_cents": {"granted": 900_000, "refused": 1_000_000, "info": 850_000, "draft": 800_000}[
                key
            ],
        },
        lines=[
            {"category": category, "supplier": supplier, "description": what, "amount_cents": cents}
            for category, supplier, what, cents in PLANS[key]
        ],
    )
    if key != "draft":
        for kind in application.scheme.required_documents:
            services.add_document(
                application=application,
                by=by,
                kind=kind,
                uploaded=SimpleUploadedFile(f"{kind}.pdf", PDF, content_type="application/pdf"),
            )


def _pay(instalment, *, company, owner, operator):
    """The company states its account, the operator verifies it, and a SEPA batch pays the
    accepted instalment (its payout order): the instalment is then paid."""
    account = set_payee_account(
        organisation=company,
        by=owner,
        payee_kind=PayeeKind.SELF,
        holder_name=company.name,
        iban="FR7630006000011234567890189",
        bic="AGRIFRPPXXX",
    )
    if not account.is_verified:
        verify_payee_account(account=account, by=operator)
    order = payout_selectors.payouts_of(organisation=company).get(
        source_kind=services.PAYOUT_SOURCE, source_id=instalment.pk
    )
    batch = payment_services.create_batch(statements=[], payouts=[order], by=operator).batch
    payment_services.mark_batch_sent(batch=batch, by=operator)
    payment_services.mark_batch_paid(batch=batch, by=operator)


def build(context):
    sponsor = context.organisations["grant_sponsor"]
    companies = {"granted": context.organisations["company"]} | {
        key: _organisation(f"company-{key}", OrganisationKind.COMPANY, name, prefix, postcode, city)
        for key, (name, prefix, postcode, city, _insee, _naf) in COMPANIES.items()
        if key != "granted"
    }
    instructor = context.users["instructeur@demo.passnum.fr"]
    owner = context.users["entreprise@demo.passnum.fr"]
    # The same person also runs the company whose application is a draft: it can be tried.
    Membership.objects.get_or_create(user=owner, organisation=companies["draft"], defaults={"role": Role.ADMIN})
    scheme = _scheme(sponsor, instructor)

    for key, company in companies.items():
        if GrantApplication.objects.filter(company=company, scheme=scheme).exists():
            continue
        application = services.create_application(scheme=scheme, company=company, by=owner)
        _fill(application, key, owner)
        application.refresh_from_db()  # filled through a locked copy
        if key == "draft":
            continue
        if key == "refused":
            # Filed on paper before the rules were checked online: recorded as received, then
            # refused by the instructing service for its equipment share.
            services.record_paper_application(application=application, by=instructor, sponsor=sponsor)
        else:
            services.submit_application(application=application, by=owner)
        services.assign(application=application, instructor=instructor, by=instructor, sponsor=sponsor)
        if key == "granted":
            services.decide(application=application, by=instructor, sponsor=sponsor, granted=True, amount_cents=900_000)
            line = application.lines.order_by("pk").first()
            instalment = services.submit_instalment(
                application=application,
                by=owner,
                line=line,
                invoice_number="AWC-2026-0142",
                amount_cents=350_000,
                uploaded=SimpleUploadedFile("facture-AWC-2026-0142.pdf", PDF, content_type="application/pdf"),
            )
            services.accept_instalment(instalment=instalment, by=instructor, sponsor=sponsor)
            _pay(instalment, company=company, owner=owner, operator=context.users.get("operateur@demo.passnum.fr"))
        elif key == "refused":
            services.decide(
                application=application,
                by=instructor,
                sponsor=sponsor,
                granted=False,
                reason="Le matériel informatique représente 40 % des dépenses du projet (4 000 € sur 10 000 €) : "
                "le dispositif en finance 25 % au plus.",
            )
        elif key == "info":
            services.request_information(
                application=application,
                by=instructor,
                sponsor=sponsor,
                message="Merci de joindre le devis détaillé du conseil en stratégie et de préciser le calendrier.",
            )

    context.output["grants"] = {
        "scheme": scheme.name,
        "applications": [
            {"company": a.company.name, "status": a.status, "pk": a.pk}
            for a in GrantApplication.objects.filter(scheme=scheme).select_related("company").order_by("pk")
        ],
    }

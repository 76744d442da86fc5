"""Use cases of the business grant « Pass numérique entreprises ».

A company signs up (an organisation of kind *company*), fills an application as a draft, sees the
eligibility rules live, submits; the sponsor's staff (the instructing service) assign it, ask for
more information, decide (granted with an amount, or refused with a reason); the company then
claims instalments on invoices, which the instructor accepts or refuses.

Every write is atomic, checks its input with a ``check_*`` validator raising ``GrantError``
(code from ``passnum.refusals`` for the rules and the instruction, French message, field), logs
each change of state (``ApplicationStatusChange``), writes the audit log in the same transaction
and e-mails the other side after the commit.
"""

import datetime
import re
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clearing.money import euros
from mediators.errors import SiteError
from mediators.qualification.validators import check_document
from passnum import mail
from passnum.audit.services import record, snapshot
from passnum.errors import DomainError
from passnum.numbering.models import Series
from passnum.numbering.services import next_number
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.models import Organisation
from passnum.refusals import Refusal
from passnum.territories import selectors as territory_selectors
from sponsors.grants import eligibility, selectors
from sponsors.grants.enums import (
    ApplicationStatus,
    DocumentKind,
    ExpenditureCategory,
    InstalmentStatus,
)
from sponsors.grants.models import (
    ApplicationDocument,
    ApplicationStatusChange,
    ExpenditureLine,
    GrantApplication,
    GrantScheme,
    Instalment,
)


class GrantError(DomainError):
    code = "grant_refused"


# Sanity bounds: beyond them a figure is a typing mistake, not a company.
MAX_HEADCOUNT = 100_000
MAX_AMOUNT_CENTS = 100_000_000_00  # 100 M€
MAX_LINES = 50
AMOUNT_RE = re.compile(r"^\d{1,15}(\.\d{1,2})?$")
NAF_RE = re.compile(r"^(\d{2})\.?(\d{2})([A-Z])$")


# --- figures ---------------------------------------------------------------------------------


def parse_euros(text, *, field: str = "amount") -> int:
    """« 1 234,56 », « 1234.56 », « 8 000 € » → cents. Refuses negative, absurd or non-numeric
    figures, and more than two decimals."""
    cleaned = str(text or "").strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").rstrip("€")
    cleaned = cleaned.replace(",", ".")
    if not cleaned:
        raise GrantError("Indiquez un montant.", code=Refusal.GRANT_INVALID_FIGURE, field=field)
    if cleaned.startswith("-") and AMOUNT_RE.match(cleaned[1:]):
        raise GrantError("Un montant doit être positif.", code=Refusal.GRANT_INVALID_FIGURE, field=field)
    if re.fullmatch(r"\d+\.\d{3,}", cleaned):
        raise GrantError(
            "Un montant a deux décimales au plus (les centimes).", code=Refusal.GRANT_INVALID_FIGURE, field=field
        )
    if not AMOUNT_RE.match(cleaned):
        raise GrantError(
            f"« {text} » n'est pas un montant : écrivez par exemple 1 234,56.",
            code=Refusal.GRANT_INVALID_FIGURE,
            field=field,
        )
    value = Decimal(cleaned)
    cents = int(value * 100)
    check_amount(cents, field=field)
    return cents


def check_amount(cents: int, *, field: str = "amount") -> int:
    if cents <= 0:
        raise GrantError("Un montant doit être positif.", code=Refusal.GRANT_INVALID_FIGURE, field=field)
    if cents > MAX_AMOUNT_CENTS:
        raise GrantError(
            f"{euros(cents)} : ce montant n'est pas vraisemblable, vérifiez-le.",
            code=Refusal.GRANT_INVALID_FIGURE,
            field=field,
        )
    return cents


def check_naf_code(value: str) -> str:
    """A NAF (APE) code: 2 digits, 2 digits, a letter — « 62.01Z » (the dot is optional)."""
    match = NAF_RE.match((value or "").strip().upper().replace(" ", ""))
    if not match:
        raise GrantError(
            "Un code NAF s'écrit 2 chiffres, un point, 2 chiffres et une lettre, par exemple 62.01Z.",
            code=Refusal.GRANT_INVALID_FIGURE,
            field="naf_code",
        )
    return f"{match[1]}.{match[2]}{match[3]}"


def check_commune(value: str) -> str:
    code = (value or "").strip().upper()
    if territory_selectors.commune(code=code) is None:
        raise GrantError(
            f"Aucune commune n'a le code INSEE « {code} » : vérifiez-le (ce n'est pas le code postal, par exemple "
            "97209 pour Fort-de-France).",
            code=Refusal.INSEE_UNKNOWN,
            field="commune_code",
        )
    return code


def check_application_facts(*, scheme: GrantScheme, fields: dict, lines: list[dict]) -> dict:
    """Checks what the company typed, before anything is written; returns the cleaned fields."""
    cleaned = dict(fields)
    headcount = cleaned.get("headcount")
    if headcount is not None and not 0 <= headcount <= MAX_HEADCOUNT:
        raise GrantError(
            f"Un effectif de {headcount} salariés n'est pas vraisemblable : indiquez le nombre de salariés.",
            code=Refusal.GRANT_INVALID_FIGURE,
            field="headcount",
        )
    if cleaned.get("naf_code"):
        cleaned["naf_code"] = check_naf_code(cleaned["naf_code"])
    if cleaned.get("turnover_cents") is not None:
        check_amount(cleaned["turnover_cents"], field="turnover")
    if cleaned.get("requested_amount_cents") is not None:
        check_amount(cleaned["requested_amount_cents"], field="requested_amount")
    if cleaned.get("commune_code"):
        cleaned["commune_code"] = check_commune(cleaned["commune_code"])
    start, end = cleaned.get("start_date"), cleaned.get("end_date")
    if start and end and end < start:
        raise GrantError(
            f"La fin prévue ({end:%d/%m/%Y}) est avant le début ({start:%d/%m/%Y}).",
            code=Refusal.GRANT_INVALID_FIGURE,
            field="end_date",
        )
    if len(lines) > MAX_LINES:
        raise GrantError(f"{MAX_LINES} lignes de dépense au plus.", code=Refusal.GRANT_INVALID_FIGURE)
    for line in lines:
        if line["category"] not in ExpenditureCategory.values:
            raise GrantError("Catégorie de dépense inconnue.", code=Refusal.GRANT_INVALID_FIGURE)
        if not (line.get("supplier") or "").strip():
            raise GrantError(
                "Indiquez le prestataire ou le fournisseur de chaque dépense.", code=Refusal.GRANT_INVALID_FIGURE
            )
        check_amount(line["amount_cents"])
    return cleaned


# --- companies -------------------------------------------------------------------------------


@transaction.atomic
def register_company(
    *, user, name: str, siret: str, address: str = "", postcode: str = "", city: str = "", email: str = "", request=None
) -> Organisation:
    """Sign-up of a company, like a site's: its organisation (SIRET checked by python-stdnum),
    the user becoming its administrator."""
    from mediators.places.validators import check_postcode
    from passnum.organisations.services import create_organisation

    if postcode:
        try:
            postcode = check_postcode(postcode)
        except SiteError as error:
            raise GrantError(error.message, code=error.code, field="postcode") from error
    organisation = create_organisation(
        kind=OrganisationKind.COMPANY,
        name=name.strip(),
        siret=siret,
        admin=user,
        address=address.strip(),
        postcode=postcode,
        city=city.strip(),
        email=email.strip(),
    )
    record("company.registered", actor=user, organisation=organisation, target=organisation, request=request)
    return organisation


# --- schemes ---------------------------------------------------------------------------------

SCHEME_FIELDS = [
    "name",
    "min_amount_cents",
    "max_amount_cents",
    "headcount_limit",
    "equipment_cap_bp",
    "max_duration_months",
    "renewal_after_months",
    "departments",
    "required_documents",
    "president_title",
    "contact_service",
    "contact_email",
    "contact_phone",
    "contact_address",
    "is_open",
]


def check_scheme_settings(fields: dict) -> dict:
    cleaned = dict(fields)
    check_amount(cleaned["min_amount_cents"], field="min_amount")
    check_amount(cleaned["max_amount_cents"], field="max_amount")
    if cleaned["min_amount_cents"] > cleaned["max_amount_cents"]:
        raise GrantError(
            "Le montant minimal dépasse le montant maximal.", code=Refusal.GRANT_INVALID_FIGURE, field="min_amount"
        )
    if not 1 <= cleaned["headcount_limit"] <= MAX_HEADCOUNT:
        raise GrantError("Effectif limite invraisemblable.", code=Refusal.GRANT_INVALID_FIGURE, field="headcount_limit")
    if not 0 <= cleaned["equipment_cap_bp"] <= 10000:
        raise GrantError(
            "La part du matériel est comprise entre 0 et 100 %.",
            code=Refusal.GRANT_INVALID_FIGURE,
            field="equipment_cap",
        )
    for key in ("max_duration_months", "renewal_after_months"):
        if not 1 <= cleaned[key] <= 120:
            raise GrantError("Une durée compte de 1 à 120 mois.", code=Refusal.GRANT_INVALID_FIGURE, field=key)
    departments = [code.strip().upper() for code in cleaned["departments"] if code.strip()]
    if not departments:
        raise GrantError("Indiquez au moins un département.", code=Refusal.DEPARTMENT_UNKNOWN, field="departments")
    unknown = territory_selectors.unknown_departments(codes=departments)
    if unknown:
        raise GrantError(
            f"Département inconnu : {', '.join(unknown)}.", code=Refusal.DEPARTMENT_UNKNOWN, field="departments"
        )
    cleaned["departments"] = departments
    if set(cleaned["required_documents"]) - set(DocumentKind.values):
        raise GrantError("Pièce inconnue.", code=Refusal.GRANT_INVALID_FIGURE, field="required_documents")
    return cleaned


@transaction.atomic
def save_scheme(*, sponsor: Organisation, by, fields: dict, scheme: GrantScheme | None = None, request=None):
    if sponsor.kind != OrganisationKind.SPONSOR:
        raise GrantError("Seul un commanditaire ouvre un dispositif de subvention.", status=403)
    cleaned = check_scheme_settings(fields)
    before = snapshot(scheme) if scheme is not None else None
    if scheme is None:
        scheme = GrantScheme(sponsor=sponsor)
    for key in SCHEME_FIELDS:
        if key in cleaned:
            setattr(scheme, key, cleaned[key])
    scheme.save()
    record(
        "grant_scheme.saved",
        actor=by,
        organisation=sponsor,
        target=scheme,
        before=before,
        after=snapshot(scheme),
        request=request,
    )
    return scheme


# --- the company's application ---------------------------------------------------------------


def check_company(organisation: Organisation):
    if organisation is None or organisation.kind != OrganisationKind.COMPANY:
        raise GrantError("Seule une entreprise dépose une demande de subvention.", status=403)


def check_editable(application: GrantApplication):
    if application.status != ApplicationStatus.DRAFT:
        raise GrantError(
            f"La demande n'est plus modifiable : elle est « {application.get_status_display().lower()} ».",
            code=Refusal.GRANT_STATE_NOT_ALLOWED,
        )


@transaction.atomic
def create_application(*, scheme: GrantScheme, company: Organisation, by, request=None) -> GrantApplication:
    check_company(company)
    if not scheme.is_open:
        raise GrantError("Ce dispositif n'accepte plus de demandes.", code=Refusal.GRANT_STATE_NOT_ALLOWED)
    application = GrantApplication.objects.create(
        scheme=scheme,
        company=company,
        created_by=by,
        renewal_of=selectors.first_grant(company=company, scheme=scheme),
    )
    ApplicationStatusChange.objects.create(application=application, to_status=ApplicationStatus.DRAFT, actor=by)
    record("grant_application.created", actor=by, organisation=company, target=application, request=request)
    return application


APPLICATION_FIELDS = [
    "headcount",
    "naf_code",
    "turnover_cents",
    "commune_code",
    "project_title",
    "project_description",
    "strategic_stakes",
    "expected_growth",
    "start_date",
    "end_date",
    "requested_amount_cents",
]


@transaction.atomic
def save_draft(*, application: GrantApplication, by, fields: dict, lines: list[dict], request=None):
    """Saves the draft and replaces its expenditure plan, all or nothing."""
    application = (
        GrantApplication.objects.select_for_update().select_related("scheme", "company").get(pk=application.pk)
    )
    check_editable(application)
    cleaned = check_application_facts(scheme=application.scheme, fields=fields, lines=lines)
    before = snapshot(application, fields=APPLICATION_FIELDS)
    for key in APPLICATION_FIELDS:
        if key in cleaned:
            value = cleaned[key]
            setattr(application, key, value.strip() if isinstance(value, str) else value)
    application.save()
    application.lines.all().delete()
    ExpenditureLine.objects.bulk_create(
        [
            ExpenditureLine(
                application=application,
                category=line["category"],
                supplier=line["supplier"].strip(),
                description=(line.get("description") or "").strip(),
                amount_cents=line["amount_cents"],
            )
            for line in lines
        ]
    )
    record(
        "grant_application.saved",
        actor=by,
        organisation=application.company,
        target=application,
        before=before,
        after={**snapshot(application, fields=APPLICATION_FIELDS), "lines": len(lines)},
        request=request,
    )
    return application


def check_grant_document(uploaded):
    """PDF, JPEG or PNG read from the content, 5 MB at most: the same check as the sites' documents."""
    try:
        return check_document(uploaded)
    except SiteError as error:
        raise GrantError(error.message, code=error.code, field="file") from error


def _store(instance, uploaded):
    content_type = check_grant_document(uploaded)
    instance.original_name = (uploaded.name or "document")[-255:]
    instance.content_type = content_type
    instance.size = uploaded.size
    instance.file.save(uploaded.name or "document", uploaded, save=False)
    return instance


@transaction.atomic
def add_document(*, application: GrantApplication, by, kind: str, uploaded, request=None) -> ApplicationDocument:
    """A document of the application: while a draft, or as an answer to a request for more information."""
    if application.status not in (ApplicationStatus.DRAFT, ApplicationStatus.INFO_REQUESTED):
        raise GrantError("La demande n'accepte plus de pièces.", code=Refusal.GRANT_STATE_NOT_ALLOWED)
    if kind not in DocumentKind.values:
        raise GrantError("Choisissez le type de pièce.", code=Refusal.GRANT_DOCUMENTS_MISSING, field="kind")
    document = _store(ApplicationDocument(application=application, kind=kind, uploaded_by=by), uploaded)
    document.save()
    record(
        "grant_application.document_added",
        actor=by,
        organisation=application.company,
        target=document,
        after={"kind": kind, "size": document.size, "content_type": document.content_type},
        request=request,
    )
    return document


@transaction.atomic
def delete_document(*, document: ApplicationDocument, by, request=None):
    application = document.application
    if application.status not in (ApplicationStatus.DRAFT, ApplicationStatus.INFO_REQUESTED):
        raise GrantError("Les pièces d'une demande déposée restent au dossier.", code=Refusal.GRANT_STATE_NOT_ALLOWED)
    record(
        "grant_application.document_deleted",
        actor=by,
        organisation=application.company,
        target=document,
        before=snapshot(document, fields=["kind", "original_name", "size"]),
        request=request,
    )
    storage, name = document.file.storage, document.file.name
    document.delete()
    transaction.on_commit(lambda: storage.delete(name))


def check_eligible(results: list[eligibility.RuleResult]):
    failed = [result for result in results if not result.passed]
    if failed:
        first = next((result.refusal for result in failed if result.refusal), Refusal.GRANT_APPLICATION_INCOMPLETE)
        raise GrantError(
            "La demande ne peut pas être déposée : " + " ".join(result.message for result in failed),
            code=first,
            refusals=[str(result.refusal or Refusal.GRANT_APPLICATION_INCOMPLETE) for result in failed],
        )


def check_project_complete(application: GrantApplication):
    missing = [
        label
        for field, label in (
            ("project_title", "l'intitulé du projet"),
            ("project_description", "la description du projet"),
            ("strategic_stakes", "les enjeux stratégiques"),
            ("expected_growth", "la croissance attendue"),
            ("naf_code", "le code NAF"),
        )
        if not getattr(application, field)
    ]
    if missing:
        raise GrantError("Complétez " + ", ".join(missing) + ".", code=Refusal.GRANT_APPLICATION_INCOMPLETE)


@transaction.atomic
def submit_application(*, application: GrantApplication, by, request=None, today: datetime.date | None = None):
    """Files the draft: every eligibility rule is run again on the day of filing."""
    application = (
        GrantApplication.objects.select_for_update().select_related("scheme", "company").get(pk=application.pk)
    )
    check_editable(application)
    check_project_complete(application)
    today = today or timezone.localdate()
    results = eligibility.evaluate(
        scheme=application.scheme, facts=selectors.facts_of(application=application, filed_on=today)
    )
    check_eligible(results)
    _file(application, by=by, request=request, action="grant_application.submitted")
    _mail_sponsor(application, f"Nouvelle demande de subvention déposée : {application.company.name}")
    _mail_company(application, "Votre demande de subvention est déposée")
    return application


def _file(application: GrantApplication, *, by, request, action: str, note: str = "") -> None:
    """Filed: its number (gapless, in this transaction), the date, the first grant it renews."""
    application.submitted_at = timezone.now()
    application.number = next_number(series=Series.PNE, year=timezone.localdate(application.submitted_at).year)
    application.renewal_of = selectors.first_grant(
        company=application.company, scheme=application.scheme, exclude_pk=application.pk
    )
    _change_status(application, ApplicationStatus.SUBMITTED, by=by, request=request, action=action, note=note)


@transaction.atomic
def record_paper_application(*, application: GrantApplication, by, sponsor: Organisation, request=None):
    """The instructing service records an application received by post, filled in for the
    company: filed without the online checks (the instruction shows each rule's result)."""
    application = (
        GrantApplication.objects.select_for_update().select_related("scheme", "company").get(pk=application.pk)
    )
    check_sponsor_of(application, sponsor)
    check_editable(application)
    check_project_complete(application)
    _file(
        application,
        by=by,
        request=request,
        action="grant_application.received_by_post",
        note="Dossier reçu par courrier.",
    )
    return application


# --- instruction -----------------------------------------------------------------------------


def check_sponsor_of(application: GrantApplication, organisation: Organisation):
    if organisation is None or application.scheme.sponsor_id != organisation.pk:
        raise GrantError("Seul le service instructeur du dispositif peut faire cela.", status=403)


def check_status(application: GrantApplication, allowed):
    if application.status not in allowed:
        raise GrantError(
            f"Cette action n'est pas possible pour une demande « {application.get_status_display().lower()} ».",
            code=Refusal.GRANT_STATE_NOT_ALLOWED,
        )


def _locked(application):
    return (
        GrantApplication.objects.select_for_update().select_related("scheme__sponsor", "company").get(pk=application.pk)
    )


@transaction.atomic
def assign(*, application: GrantApplication, instructor, by, sponsor: Organisation, request=None):
    application = _locked(application)
    check_sponsor_of(application, sponsor)
    check_status(application, (ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW))
    if not selectors.instructors(sponsor=sponsor).filter(user=instructor).exists():
        raise GrantError("Cette personne n'est pas membre du service instructeur.", field="instructor")
    before = {"assigned_to": application.assigned_to_id}
    application.assigned_to = instructor
    if application.status == ApplicationStatus.SUBMITTED:
        _change_status(
            application,
            ApplicationStatus.IN_REVIEW,
            by=by,
            request=request,
            action="grant_application.in_review",
            note=f"Confiée à {instructor.get_full_name() or instructor.email}.",
        )
    else:
        application.save()
    record(
        "grant_application.assigned",
        actor=by,
        organisation=sponsor,
        target=application,
        before=before,
        after={"assigned_to": instructor.pk},
        request=request,
    )
    return application


@transaction.atomic
def request_information(*, application: GrantApplication, by, sponsor: Organisation, message: str, request=None):
    application = _locked(application)
    check_sponsor_of(application, sponsor)
    check_status(application, (ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW))
    message = (message or "").strip()
    if not message:
        raise GrantError(
            "Dites à l'entreprise ce qu'il lui faut compléter.",
            code=Refusal.GRANT_DECISION_REASON_REQUIRED,
            field="message",
        )
    application.info_request = message
    application.company_answer = ""
    _change_status(
        application,
        ApplicationStatus.INFO_REQUESTED,
        by=by,
        request=request,
        action="grant_application.info_requested",
        note=message,
    )
    _mail_company(application, "Des compléments sont demandés sur votre demande de subvention")
    return application


@transaction.atomic
def answer_information(*, application: GrantApplication, by, answer: str, request=None):
    """The company answers in the application, which returns to the instructing service's queue."""
    application = _locked(application)
    check_status(application, (ApplicationStatus.INFO_REQUESTED,))
    answer = (answer or "").strip()
    if not answer:
        raise GrantError("Écrivez votre réponse.", code=Refusal.GRANT_APPLICATION_INCOMPLETE, field="answer")
    application.company_answer = answer
    to_status = ApplicationStatus.IN_REVIEW if application.assigned_to_id else ApplicationStatus.SUBMITTED
    _change_status(application, to_status, by=by, request=request, action="grant_application.answered", note=answer)
    _mail_sponsor(application, f"L'entreprise {application.company.name} a répondu à votre demande de compléments")
    return application


@transaction.atomic
def decide(
    *,
    application: GrantApplication,
    by,
    sponsor: Organisation,
    granted: bool,
    amount_cents: int | None = None,
    reason: str = "",
    request=None,
):
    """Granted (an amount within the scheme's range and the request) or refused (a reason)."""
    application = _locked(application)
    check_sponsor_of(application, sponsor)
    check_status(application, (ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW))
    reason = (reason or "").strip()
    scheme = application.scheme
    if granted:
        if amount_cents is None:
            raise GrantError("Indiquez le montant accordé.", code=Refusal.GRANT_INVALID_FIGURE, field="amount")
        check_amount(amount_cents, field="amount")
        if not scheme.min_amount_cents <= amount_cents <= scheme.max_amount_cents:
            raise GrantError(
                f"Le montant accordé ({euros(amount_cents)}) doit être compris entre {euros(scheme.min_amount_cents)} "
                f"et {euros(scheme.max_amount_cents)}.",
                code=Refusal.GRANT_AMOUNT_OUT_OF_RANGE,
                field="amount",
            )
        if amount_cents > (application.requested_amount_cents or 0):
            raise GrantError(
                f"Le montant accordé dépasse le montant demandé ({euros(application.requested_amount_cents or 0)}).",
                code=Refusal.GRANT_AMOUNT_OUT_OF_RANGE,
                field="amount",
            )
        application.granted_amount_cents = amount_cents
        to_status, action = ApplicationStatus.GRANTED, "grant_application.granted"
    else:
        if not reason:
            raise GrantError(
                "Indiquez le motif du refus : l'entreprise le lira dans la lettre de décision.",
                code=Refusal.GRANT_DECISION_REASON_REQUIRED,
                field="reason",
            )
        application.granted_amount_cents = None
        to_status, action = ApplicationStatus.REFUSED, "grant_application.refused"
    application.decision_reason = reason
    application.decided_at = timezone.now()
    _change_status(application, to_status, by=by, request=request, action=action, note=reason)
    subject = "Votre demande de subvention est accordée" if granted else "Votre demande de subvention est refusée"
    _mail_company(application, subject)
    return application


# --- instalments -----------------------------------------------------------------------------


@transaction.atomic
def submit_instalment(
    *,
    application: GrantApplication,
    by,
    line: ExpenditureLine,
    invoice_number: str,
    amount_cents: int,
    uploaded,
    request=None,
) -> Instalment:
    """The company claims an instalment on an invoice, against one line of its plan."""
    application = _locked(application)
    check_status(application, (ApplicationStatus.GRANTED,))
    if line.application_id != application.pk:
        raise GrantError("Cette ligne n'est pas dans le plan de la demande.", field="line")
    check_amount(amount_cents, field="amount")
    if not (invoice_number or "").strip():
        raise GrantError("Indiquez le numéro de la facture.", field="invoice_number")
    remaining = selectors.claimable_cents(application=application)
    if amount_cents > remaining:
        raise GrantError(
            f"Il reste {euros(remaining)} de la subvention (factures en attente comprises) : la facture demande "
            f"{euros(amount_cents)}.",
            code=Refusal.GRANT_INSTALMENT_ABOVE_REMAINING,
            field="amount",
        )
    instalment = _store(
        Instalment(
            application=application,
            line=line,
            invoice_number=invoice_number.strip()[:60],
            amount_cents=amount_cents,
            submitted_by=by,
        ),
        uploaded,
    )
    instalment.save()
    record(
        "grant_instalment.submitted",
        actor=by,
        organisation=application.company,
        target=instalment,
        after={"amount_cents": amount_cents, "line": line.pk},
        request=request,
    )
    _mail_sponsor(application, f"Nouvelle facture à examiner : {application.company.name}")
    return instalment


def _locked_instalment(instalment):
    return (
        Instalment.objects.select_for_update()
        .select_related("application__scheme__sponsor", "application__company", "line")
        .get(pk=instalment.pk)
    )


@transaction.atomic
def accept_instalment(*, instalment: Instalment, by, sponsor: Organisation, request=None) -> Instalment:
    """Accepted against its line: it then waits to be paid (see ``hand_over_for_payment``)."""
    application = _locked(instalment.application)  # one instalment decided at a time per application
    instalment = _locked_instalment(instalment)
    check_sponsor_of(application, sponsor)
    if instalment.status != InstalmentStatus.SUBMITTED:
        raise GrantError("Cette facture a déjà été examinée.", code=Refusal.GRANT_STATE_NOT_ALLOWED)
    remaining = selectors.remaining_cents(application=application)
    if instalment.amount_cents > remaining:
        raise GrantError(
            f"Il reste {euros(remaining)} de la subvention accordée : ce versement de {euros(instalment.amount_cents)} "
            "le dépasse.",
            code=Refusal.GRANT_INSTALMENT_ABOVE_REMAINING,
        )
    instalment.status = InstalmentStatus.ACCEPTED
    instalment.decided_by = by
    instalment.decided_at = timezone.now()
    instalment.save()
    record(
        "grant_instalment.accepted",
        actor=by,
        organisation=sponsor,
        target=instalment,
        after={"amount_cents": instalment.amount_cents, "remaining_cents": remaining - instalment.amount_cents},
        request=request,
    )
    hand_over_for_payment(instalment=instalment, by=by, request=request)
    _mail_company(application, f"Votre facture {instalment.invoice_number} est acceptée : versement à venir")
    return instalment


@transaction.atomic
def refuse_instalment(*, instalment: Instalment, by, sponsor: Organisation, reason: str, request=None) -> Instalment:
    instalment = _locked_instalment(instalment)
    check_sponsor_of(instalment.application, sponsor)
    if instalment.status != InstalmentStatus.SUBMITTED:
        raise GrantError("Cette facture a déjà été examinée.", code=Refusal.GRANT_STATE_NOT_ALLOWED)
    reason = (reason or "").strip()
    if not reason:
        raise GrantError(
            "Indiquez le motif du refus de la facture.", code=Refusal.GRANT_DECISION_REASON_REQUIRED, field="reason"
        )
    instalment.status = InstalmentStatus.REFUSED
    instalment.refusal_reason = reason
    instalment.decided_by = by
    instalment.decided_at = timezone.now()
    instalment.save()
    record(
        "grant_instalment.refused",
        actor=by,
        organisation=sponsor,
        target=instalment,
        after={"reason": reason},
        request=request,
    )
    _mail_company(instalment.application, f"Votre facture {instalment.invoice_number} est refusée")
    return instalment


PAYOUT_SOURCE = "grant_instalment"  # the kind of payout order an accepted instalment becomes


def hand_over_for_payment(*, instalment: Instalment, by, request=None) -> None:
    """THE single place where an accepted instalment meets the payment of the grant: a payout
    order of ``clearing/payments`` to the company (paid by the same SEPA batches as the sites'
    statements, to the company's verified payee account — held back until it has one), in the
    accepting transaction. Its reference goes on the instalment; the batch's execution marks the
    instalment paid (``mark_instalments_paid``, by the payment batches' signals)."""
    from clearing.payments.services import schedule_payout

    application = instalment.application
    reference = f"{application.reference}-V{instalment.pk}"
    schedule_payout(
        organisation=application.company,
        amount_cents=instalment.amount_cents,
        source_kind=PAYOUT_SOURCE,
        source_id=instalment.pk,
        reference=reference,
        label=f"Subvention Pass numérique entreprises {application.reference}, facture {instalment.invoice_number}",
        by=by,
        request=request,
    )
    Instalment.objects.filter(pk=instalment.pk).update(payment_reference=reference)
    instalment.payment_reference = reference


def mark_instalments_paid(*, instalment_ids: list[int]) -> None:
    """The payment batch carrying these instalments' payout orders was executed."""
    for instalment in Instalment.objects.filter(pk__in=instalment_ids, status=InstalmentStatus.ACCEPTED).order_by("pk"):
        mark_instalment_paid(instalment=instalment, reference=instalment.payment_reference)


@transaction.atomic
def mark_instalments_unpaid(*, instalment_ids: list[int]) -> None:
    """A paid transfer came back from the bank: accepted again, to be paid by a later batch."""
    paid = Instalment.objects.select_for_update().filter(pk__in=instalment_ids, status=InstalmentStatus.PAID)
    for instalment in paid.select_related("application__scheme__sponsor").order_by("pk"):
        instalment.status = InstalmentStatus.ACCEPTED
        instalment.paid_at = None
        instalment.save(update_fields=["status", "paid_at"])
        record(
            "grant_instalment.returned",
            organisation=instalment.application.scheme.sponsor,
            target=instalment,
            after={"amount_cents": instalment.amount_cents, "reference": instalment.payment_reference},
        )


@transaction.atomic
def mark_instalment_paid(*, instalment: Instalment, reference: str = "", by=None, request=None) -> Instalment:
    """The transfer of an accepted instalment was made (called by the payment step)."""
    instalment = _locked_instalment(instalment)
    if instalment.status != InstalmentStatus.ACCEPTED:
        raise GrantError("Seule une facture acceptée peut être payée.", code=Refusal.GRANT_STATE_NOT_ALLOWED)
    instalment.status = InstalmentStatus.PAID
    instalment.paid_at = timezone.now()
    instalment.payment_reference = reference[:100]
    instalment.save()
    record(
        "grant_instalment.paid",
        actor=by,
        organisation=instalment.application.scheme.sponsor,
        target=instalment,
        after={"amount_cents": instalment.amount_cents, "reference": reference},
        request=request,
    )
    return instalment


# --- letters ---------------------------------------------------------------------------------


def render_request_letter_pdf(*, application: GrantApplication) -> bytes:
    """The request letter to the President of the Executive Council, ready to sign."""
    from clearing.pdf import render_pdf

    return render_pdf(
        "sponsors/grants/request_letter_pdf.html",
        {
            "application": application,
            "scheme": application.scheme,
            "lines": list(application.lines.all()),
            "total": selectors.total_expenditure_cents(application=application),
            "today": timezone.localdate(),
        },
    )


def render_decision_letter_pdf(*, application: GrantApplication) -> bytes:
    from clearing.pdf import render_pdf

    if application.status not in (ApplicationStatus.GRANTED, ApplicationStatus.REFUSED):
        raise GrantError("La décision n'est pas encore prise.", code=Refusal.GRANT_STATE_NOT_ALLOWED, status=404)
    return render_pdf(
        "sponsors/grants/decision_letter_pdf.html",
        {
            "application": application,
            "scheme": application.scheme,
            "decided_on": timezone.localtime(application.decided_at),
        },
    )


# --- helpers ---------------------------------------------------------------------------------


def _change_status(application, to_status, *, by, request, action, note=""):
    from_status = application.status
    application.status = to_status
    application.save()
    ApplicationStatusChange.objects.create(
        application=application, from_status=from_status, to_status=to_status, note=note, actor=by
    )
    record(
        action,
        actor=by,
        organisation=application.company,
        target=application,
        before={"status": from_status},
        after={"status": to_status, "note": note},
        request=request,
    )


def _link(application):
    return settings.SITE_URL.rstrip("/") + reverse("grants:application", kwargs={"pk": application.pk})


def _mail_company(application, subject):
    recipients = selectors.admin_emails(organisation=application.company)
    if not recipients:
        return
    body = (
        f"Bonjour,\n\n{subject} (« {application.project_title or application.reference} », "
        f"{application.scheme.name}).\n\nÉtat de la demande : {application.get_status_display()}.\n"
        + (
            f"Montant accordé : {euros(application.granted_amount_cents)}.\n"
            if application.granted_amount_cents
            else ""
        )
        + (f"Motif : {application.decision_reason}\n" if application.decision_reason else "")
        + (
            f"Compléments demandés : {application.info_request}\n"
            if application.status == ApplicationStatus.INFO_REQUESTED
            else ""
        )
        + f"\nRetrouvez le détail dans votre espace : {_link(application)}\n\n{application.scheme.contact_service}"
    )
    mail.send_after_commit(subject=f"{subject} — Pass numérique entreprises", body=body, to=recipients)


def _mail_sponsor(application, subject):
    recipients = [application.scheme.contact_email] if application.scheme.contact_email else []
    if application.assigned_to_id and application.assigned_to.email:
        recipients.append(application.assigned_to.email)
    if not recipients:
        recipients = selectors.admin_emails(organisation=application.scheme.sponsor)
    if not recipients:
        return
    body = (
        f"Bonjour,\n\n{subject}.\n\nDemande {application.reference} — {application.project_title}\n"
        f"État : {application.get_status_display()}.\n\nOuvrir la demande : {_link(application)}\n"
    )
    mail.send_after_commit(subject=f"{subject} — Pass numérique entreprises", body=body, to=sorted(set(recipients)))

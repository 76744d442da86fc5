"""Helpers of the cross-organisation walk: every URL pattern, and a factory for every model."""

import importlib
import pkgutil
from pathlib import Path

import factory
from django.urls import URLPattern, URLResolver, get_resolver

import tests

# Views of libraries: the admin is the operator's console (tested on its own), allauth's
# account pages belong to the logged-in user only, the API schema is public.
THIRD_PARTY_MODULES = ("django.", "allauth.", "drf_spectacular", "rest_framework.", "import_export.")


def iter_url_patterns(patterns=None, namespace=""):
    """Yields ``(qualified_name, pattern)`` for every URL pattern of the project."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = (
                f"{namespace}:{entry.namespace}" if namespace and entry.namespace else (entry.namespace or namespace)
            )
            yield from iter_url_patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name, entry


def is_third_party(pattern):
    module = getattr(pattern.callback, "__module__", "") or ""
    view_class = view_class_of(pattern)
    if view_class is not None:
        module = view_class.__module__
    return module.startswith(THIRD_PARTY_MODULES)


def url_parameters(pattern):
    converters = getattr(pattern.pattern, "converters", None)
    if converters:
        return list(converters)
    regex = getattr(pattern.pattern, "regex", None)
    return list(regex.groupindex) if regex is not None else []


def view_class_of(pattern):
    callback = pattern.callback
    return getattr(callback, "view_class", None) or getattr(callback, "cls", None)


def route_tenancy(pattern):
    """What a route with parameters declares: ``("tenant", model, lookups)``, ``("public", reason)``
    or ``None``. HTML routes declare it with ``tenant_path``/``public_path``; API views scoped by
    ``TenantScopedMixin`` declare it by their queryset, public API views by ``tenant_public``."""
    if hasattr(pattern, "tenant_model"):
        return "tenant", pattern.tenant_model, pattern.tenant_lookups
    if hasattr(pattern, "tenant_public"):
        return "public", pattern.tenant_public
    view_class = view_class_of(pattern)
    if view_class is None:
        return None
    from passnum.api import TenantScopedMixin

    if issubclass(view_class, TenantScopedMixin):
        lookup_field = getattr(view_class, "lookup_field", "pk")
        url_kwarg = getattr(view_class, "lookup_url_kwarg", None) or lookup_field
        return "tenant", view_class.queryset.model, {url_kwarg: lookup_field}
    if getattr(view_class, "tenant_public", None):
        return "public", view_class.tenant_public
    return None


def _import_factory_modules():
    root = Path(tests.__file__).parent
    for module_info in pkgutil.walk_packages([str(root)], prefix="tests."):
        if module_info.name.rsplit(".", 1)[-1] == "factories":
            importlib.import_module(module_info.name)


def _all_subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _all_subclasses(subclass)


def factory_for(model):
    """The factory of ``model`` found in tests/**/factories.py (the first one declared)."""
    _import_factory_modules()
    for candidate in _all_subclasses(factory.django.DjangoModelFactory):
        if candidate._meta.model is model:
            return candidate
    raise LookupError(f"Aucune factory pour {model.__name__} : ajoutez-la dans tests/<app>/factories.py.")


def owning_organisation(obj):
    """Follows ``tenant_field`` from an object to the organisation that owns it."""
    path = type(obj).tenant_field
    if path == "pk":
        return obj
    value = obj
    for attribute in path.split("__"):
        value = getattr(value, attribute)
    return value


# --- The world of the walk: two organisations of each kind, with marked data -----------------
#
# ``build_world()`` builds two independent "sides" (A, the visitor's, and B, the other one): for
# each, a sponsor, a prescriber, a site and a co-funder, with a programme, booklets in stock, handed
# out and lost, a redemption, a refused scan, members, invitations, tokens, documents… Every value
# that can be told apart carries a marker (``zq<side><what>``, or the value itself for serials,
# pass codes and invoice numbers), recorded with its category so that the walk can search every
# response for the other side's markers.

WALK_KINDS = ("sponsor", "prescriber", "site", "funder", "company")

# Where a marker may legitimately appear (everything else: nowhere outside its organisation).
PRIVATE = "private"
# Published on purpose for a qualified site: the finder, its place pages, the open data.
PUBLISHED = "published"
# Printed on the booklet: whoever holds one of its passes or its serial may read it.
PRINTED = "printed"


class World:
    """Both sides of the walk; ``side("a")`` is the visitor's, ``side("b")`` the other one."""

    def __init__(self, a, b):
        self.sides = {"a": a, "b": b}

    def side(self, label):
        return self.sides[label]


class Side:
    def __init__(self, label):
        self.label = label
        self.organisations = {}  # kind → Organisation
        self.admins = {}  # kind → User, admin of that organisation (the visitor, on side A)
        self.markers = {}  # marker text → (category, what it marks)
        self.by_what = {}  # what it marks → marker text
        self.printed_by_booklet = {}  # serial → markers printed on that booklet (and its passes)

    def mark(self, what, category=PRIVATE, *, text=None):
        text = text or f"zq{self.label}{what}"
        self.markers[text] = (category, what)
        self.by_what[what] = text
        return text

    def printed(self, serials):
        """What is printed on these booklets (and the programme's name): whoever holds them reads it."""
        texts = {self.by_what["programmename"]}
        for serial in serials:
            texts.update(self.printed_by_booklet[serial])
        return texts


def build_side(label):
    """One side: its organisations, members and data, each marked (see ``Side.mark``)."""
    from types import SimpleNamespace

    from django.utils import timezone

    from beneficiaries import services as beneficiary_services
    from beneficiaries.models import LossKind
    from mediators.redemption import services as mediator_services
    from passnum.passes import codes
    from sponsors.models import CoFunder
    from tests.beneficiaries.factories import BENEFICIARY, booklets_in_stock
    from tests.calls.factories import build_calls_side
    from tests.clearing.factories import CreditNoteFactory, StatementFactory, SubscriptionInvoiceFactory
    from tests.clearing.payees.factories import PayeeAccountFactory
    from tests.factories import ApiTokenFactory, InvitationFactory, MembershipFactory, OrganisationFactory, UserFactory
    from tests.mediators.factories import (
        CatalogueItemFactory,
        PointOfPresenceFactory,
        RefusedScanFactory,
        SiteFactory,
        SubscriptionFactory,
        SupportingDocumentFactory,
        WorkshopFactory,
        aptic_service,
    )
    from tests.passes.factories import PrintFileFactory, PrintRunFactory
    from tests.sponsors.factories import ExportJobFactory, SponsorInvoiceFactory

    side = Side(label)
    for kind in WALK_KINDS:
        # A qualified site's organisation name is published (finder, open data).
        category = PUBLISHED if kind == "site" else PRIVATE
        organisation = OrganisationFactory(kind=kind, name=side.mark(f"{kind}org", category))
        side.organisations[kind] = organisation
        admin = UserFactory(
            with_mfa=True, email=side.mark(f"{kind}admin@exemple.fr"), last_name=side.mark(f"{kind}adminname")
        )
        MembershipFactory(user=admin, organisation=organisation, role="admin")
        side.admins[kind] = admin
        colleague = UserFactory(email=side.mark(f"{kind}member@exemple.fr"), first_name=side.mark(f"{kind}memberfirst"))
        MembershipFactory(user=colleague, organisation=organisation, role="member")
        InvitationFactory(organisation=organisation, email=side.mark(f"{kind}invited@exemple.fr"), invited_by=admin)
        ApiTokenFactory(organisation=organisation, user=admin, name=side.mark(f"{kind}token"))

    sponsor, prescriber = side.organisations["sponsor"], side.organisations["prescriber"]
    site_org = side.organisations["site"]
    programme_name = side.mark("programmename", PRINTED)
    booklets = booklets_in_stock(
        prescriber,
        4,
        sponsor=sponsor,
        name=programme_name,
        prefix=f"QZ{label.upper()}",
        departments=["33"],
        communes=[],
        allows_exceptions=True,
        requires_beneficiary_name=True,
        contact_name=side.mark("programmecontact"),
        contact_email=side.mark("programmecontact@exemple.fr"),
    )
    programme, order = booklets[0].programme, booklets[0].order
    CoFunder.objects.create(
        programme=programme, name=side.mark("cofunder"), organisation=side.organisations["funder"], share_bp=2000
    )
    invoice = SponsorInvoiceFactory(order=order, sponsor=sponsor, sponsor_name=sponsor.name)
    side.mark("invoice", text=invoice.number)
    PrintFileFactory(
        print_run=PrintRunFactory(order=order),
        first_serial=booklets[0].serial,
        last_serial=booklets[-1].serial,
    )
    for booklet in booklets:
        printed = [side.mark(f"serial{booklet.number}", PRINTED, text=booklet.serial)]
        for pass_ in booklet.passes.all():
            printed.append(side.mark(f"pass{booklet.number}-{pass_.position}", PRINTED, text=pass_.code))
            printed.append(
                side.mark(f"pass{booklet.number}-{pass_.position}g", PRINTED, text=codes.grouped(pass_.code))
            )
        side.printed_by_booklet[booklet.serial] = printed

    agent = side.admins["prescriber"]
    handed, exception, lost, in_stock = booklets
    beneficiary = {
        **BENEFICIARY,
        "contact_consent": True,
        "email": side.mark("beneficiary@exemple.fr"),
        "phone": "0611223344",
        "name": side.mark("beneficiaryname"),
        "name_consent": True,
    }
    beneficiary_services.hand_over(prescriber, handed.serial, beneficiary, user=agent)
    beneficiary_services.hand_over(
        prescriber,
        exception.serial,
        {**beneficiary, "commune": "75056", "name": side.mark("exceptionname")},
        user=agent,
        exception_reason=side.mark("exceptionreason"),
    )
    beneficiary_services.hand_over(prescriber, lost.serial, {**beneficiary, "name": side.mark("lostname")}, user=agent)
    beneficiary_services.declare_lost(prescriber, lost.serial, kind=LossKind.STOLEN, user=agent)

    site = SiteFactory(qualified=True, organisation=site_org, legal_form="association")
    subscription = SubscriptionFactory(site=site)
    point = PointOfPresenceFactory(
        site=site,
        name=side.mark("pointname", PUBLISHED),
        address=side.mark("pointaddress", PUBLISHED),
        email=side.mark("point@exemple.fr", PUBLISHED),
    )
    item = CatalogueItemFactory(site=site, service=aptic_service(1))
    WorkshopFactory(site=site, point_of_presence=point, service=aptic_service(1))
    SupportingDocumentFactory(site=site, original_name=side.mark("document") + ".pdf")
    payee = PayeeAccountFactory(organisation=site.organisation, holder_name=side.mark("payee"))
    site_user = side.admins["site"]
    passes = list(handed.passes.order_by("position"))
    redemption = mediator_services.redeem(
        site_org,
        user=site_user,
        codes_entered=[passes[0].code],
        service_code=item.service.code,
        point_id=point.pk,
    )
    side.mark("redemption", text=str(redemption.pk))
    RefusedScanFactory(organisation=site_org, entered=side.mark("refusedentry"), user=site_user, at=timezone.now())
    statement = StatementFactory(site=site, number=side.mark("relnumber"), year=timezone.localdate().year)
    SubscriptionInvoiceFactory(subscription=subscription, number=side.mark("abonumber"))
    rejected_transfer(side, statement=statement, payee=payee)
    CreditNoteFactory(programme=programme, number=side.mark("avnumber"))
    build_calls_side(side, programme=programme)
    ExportJobFactory(organisation=sponsor, owner=side.admins["sponsor"], file_name=side.mark("exportfile") + ".csv")

    grant_application = grant_side(side)

    side.objects = SimpleNamespace(
        programme=programme,
        order=order,
        point=point,
        item=item,
        stock_serial=in_stock.serial,
        handed_serial=handed.serial,
        lost_serial=lost.serial,
        redeemed_code=passes[0].code,
        active_code=passes[1].code,
        cancelled_code=lost.passes.order_by("position").first().code,
        member_email=colleague.email,
        statement=statement,
        grant_application=grant_application,
    )
    return side


def grant_side(side):
    """The business grant: the side's sponsor runs a scheme, the side's company holds a granted
    application with a document and an invoice claimed against its plan."""
    from sponsors.grants.enums import ApplicationStatus
    from tests.sponsors.grants.factories import (
        ApplicationDocumentFactory,
        GrantApplicationFactory,
        GrantSchemeFactory,
        InstalmentFactory,
    )

    scheme = GrantSchemeFactory(sponsor=side.organisations["sponsor"], name=side.mark("schemename"))
    application = GrantApplicationFactory(
        scheme=scheme,
        company=side.organisations["company"],
        project_title=side.mark("grantproject"),
        strategic_stakes=side.mark("grantstakes"),
        documents=[],
        granted=True,
        decision_reason=side.mark("grantreason"),
    )
    assert application.status == ApplicationStatus.GRANTED
    ApplicationDocumentFactory(application=application, original_name=side.mark("grantdocument") + ".pdf")
    InstalmentFactory(application=application, invoice_number=side.mark("grantinvoice"))
    return application


def build_world():
    return World(build_side("a"), build_side("b"))


def rejected_transfer(side, *, statement, payee):
    """A transfer of ``statement`` that the bank rejected, its reason marked: a site sees the reason
    of its own rejected transfers on /site/releves/, never another's."""
    from django.utils import timezone

    from clearing.payments.models import LineStatus, PaymentBatch, PaymentBatchLine

    batch = PaymentBatch.objects.create(
        message_id=side.mark("batchmessage"),
        debtor_name="Opérateur",
        debtor_iban="FR7630004000010001234567830",
        execution_date=timezone.localdate(),
        created_at=timezone.now(),
    )
    return PaymentBatchLine.objects.create(
        batch=batch,
        organisation=statement.site.organisation,
        payee_account=payee,
        holder_name=payee.holder_name,
        iban=payee.iban,
        bic=payee.bic,
        amount_cents=statement.total_cents,
        end_to_end_id=side.mark("endtoend"),
        statement=statement,
        remittance_info=f"Pass numerique - releve {statement.number}",
        status=LineStatus.REJECTED,
        reason_code="AC04",
        reason_label=side.mark("rejectionreason"),
    )

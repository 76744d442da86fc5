"""Factories of the business grant: a Martinique scheme, a company's application (a complete,
eligible draft by default), its documents and instalments."""

import datetime

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from sponsors.grants.enums import ApplicationStatus, DocumentKind, ExpenditureCategory, InstalmentStatus
from sponsors.grants.models import ApplicationDocument, ExpenditureLine, GrantApplication, GrantScheme, Instalment
from tests.factories import OrganisationFactory

PDF = b"%PDF-1.4\n% a tiny test document\n%%EOF\n"


class GrantSchemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GrantScheme

    sponsor = factory.SubFactory(OrganisationFactory, sponsor=True, name="Collectivité Territoriale de Martinique")
    name = factory.Sequence(lambda n: f"Pass numérique entreprises {n}")
    contact_service = "Service du développement de l'économie numérique"
    contact_email = "economie.numerique@exemple.fr"


class GrantApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GrantApplication
        skip_postgeneration_save = True

    scheme = factory.SubFactory(GrantSchemeFactory)
    company = factory.SubFactory(OrganisationFactory, company=True)
    headcount = 12
    naf_code = "47.11B"
    commune_code = "97209"
    project_title = factory.Sequence(lambda n: f"Boutique en ligne {n}")
    project_description = "Une boutique en ligne et un logiciel de caisse."
    strategic_stakes = "Vendre hors de l'île."
    expected_growth = "Plus 20 % de chiffre d'affaires en deux ans."
    start_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    end_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=400))
    requested_amount_cents = 900_000

    class Params:
        submitted = factory.Trait(
            status=ApplicationStatus.SUBMITTED,
            submitted_at=factory.LazyFunction(timezone.now),
            number=factory.Sequence(lambda n: f"PNE-1999-{n:06d}"),  # a year no filing uses
        )
        granted = factory.Trait(
            status=ApplicationStatus.GRANTED,
            number=factory.Sequence(lambda n: f"PNE-1999-{n:06d}"),
            submitted_at=factory.LazyFunction(timezone.now),
            decided_at=factory.LazyFunction(timezone.now),
            granted_amount_cents=900_000,
        )

    @factory.post_generation
    def plan(obj, create, extracted, **kwargs):
        """Lines of the plan: ``plan=[(category, cents), ...]``; by default 20 % of equipment."""
        if not create:
            return
        lines = (
            extracted
            if extracted is not None
            else [
                (ExpenditureCategory.EXTERNAL_SERVICE, 800_000),
                (ExpenditureCategory.EQUIPMENT, 200_000),
            ]
        )
        for category, cents in lines:
            ExpenditureLine.objects.create(
                application=obj, category=category, supplier="Prestataire", amount_cents=cents
            )

    @factory.post_generation
    def documents(obj, create, extracted, **kwargs):
        """All the scheme's required documents unless ``documents=[...]`` names the kinds."""
        if not create:
            return
        kinds = extracted if extracted is not None else obj.scheme.required_documents
        for kind in kinds:
            ApplicationDocumentFactory(application=obj, kind=kind)


class ApplicationDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApplicationDocument

    application = factory.SubFactory(GrantApplicationFactory, documents=[])
    kind = DocumentKind.PROJECT_FILE
    file = factory.LazyFunction(lambda: ContentFile(PDF, name="piece.pdf"))
    original_name = factory.Sequence(lambda n: f"piece-{n}.pdf")
    content_type = "application/pdf"
    size = len(PDF)


class InstalmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Instalment

    application = factory.SubFactory(GrantApplicationFactory, granted=True, documents=[])
    line = factory.LazyAttribute(lambda o: o.application.lines.order_by("pk").first())
    invoice_number = factory.Sequence(lambda n: f"F-2026-{n:04d}")
    amount_cents = 300_000
    file = factory.LazyFunction(lambda: ContentFile(PDF, name="facture.pdf"))
    original_name = factory.Sequence(lambda n: f"facture-{n}.pdf")
    content_type = "application/pdf"
    size = len(PDF)
    status = InstalmentStatus.SUBMITTED

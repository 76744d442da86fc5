"""``GET /api/v1/statements`` (a site's statements, by year), ``GET /api/v1/statements/{number}``
(one statement with its lines by place and service) and ``…/{number}/pdf``. Another
organisation's statement answers 404."""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from clearing import selectors
from clearing.models import Statement, StatementStatus
from passnum.api import ERROR_RESPONSES, Pagination, TenantScopedMixin, api_organisation, path_parameter
from passnum.audit.services import record_download
from passnum.errors import DomainError
from passnum.organisations.enums import OrganisationKind
from passnum.passes.downloads import file_response

YEAR = re.compile(r"^[12]\d{3}$", re.ASCII)


class StatementGroupSerializer(serializers.Serializer):
    service_code = serializers.IntegerField(help_text="Code du service #APTIC.")
    service = serializers.CharField()
    point_of_presence = serializers.CharField(help_text="Nom du lieu.")
    redemptions = serializers.IntegerField()
    passes = serializers.IntegerField()
    amount_cents = serializers.IntegerField()


class StatementAdjustmentSerializer(serializers.Serializer):
    amount_cents = serializers.IntegerField(help_text="Négatif pour une somme reprise.")
    reason = serializers.CharField()


class StatementSerializer(serializers.Serializer):
    """Documents a statement as ``selectors.statement_as_dict`` writes it."""

    number = serializers.CharField(help_text="Numéro continu de l'année, par exemple REL-2026-000123.")
    month = serializers.CharField(help_text="Mois des encaissements, AAAA-MM (heure de Paris).")
    issued_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=StatementStatus.choices)
    redemption_count = serializers.IntegerField()
    pass_count = serializers.IntegerField()
    redemptions_cents = serializers.IntegerField()
    adjustments_cents = serializers.IntegerField()
    subscription_netted_cents = serializers.IntegerField()
    total_cents = serializers.IntegerField(help_text="Total à payer à la structure, en centimes.")
    pdf_ready = serializers.BooleanField(help_text="Le PDF est prêt à télécharger.")


class StatementDetailSerializer(StatementSerializer):
    groups = StatementGroupSerializer(many=True, help_text="Encaissements par lieu et par service.")
    adjustments = StatementAdjustmentSerializer(many=True)


class StatementQuerySerializer(serializers.Serializer):
    year = serializers.RegexField(YEAR, required=False, help_text="Année de numérotation (AAAA).")
    page = serializers.IntegerField(required=False, min_value=1, help_text="Numéro de page, à partir de 1.")


class StatementPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = StatementSerializer(many=True)


def site_organisation(request):
    organisation = api_organisation(request)
    if organisation is None or organisation.kind != OrganisationKind.SITE:
        raise DomainError(
            "Les relevés de remboursement sont réservés aux structures de médiation.",
            code="permission_denied",
            status=403,
        )
    return organisation


def read_year(text):
    if text is None:
        return None
    if YEAR.match(text):
        return int(text)
    raise DomainError(
        "Année invalide : utilisez le format AAAA, par exemple 2026.", code="invalid", fields={"year": ["AAAA"]}
    )


class StatementsView(APIView):
    @extend_schema(
        summary="Relevés de remboursement de la structure",
        description="Du plus récent au plus ancien ; `year` filtre sur l'année de numérotation.",
        operation_id="statements_list",
        parameters=[StatementQuerySerializer],
        responses={200: StatementPageSerializer, **ERROR_RESPONSES},
    )
    def get(self, request):
        organisation = site_organisation(request)
        statements = selectors.statements_of(organisation, year=read_year(request.query_params.get("year")))
        paginator = Pagination()
        page = paginator.paginate_queryset(statements, request, view=self)
        return paginator.get_paginated_response([selectors.statement_as_dict(s) for s in page])


class StatementObjectMixin(TenantScopedMixin):
    queryset = Statement.objects.select_related("site__organisation")
    lookup_field = "number"
    lookup_url_kwarg = "number"

    def get_queryset(self):
        return self.queryset.for_organisation(api_organisation(self.request))

    def get_object(self, number):
        site_organisation(self.request)
        return get_object_or_404(self.get_queryset(), number=number)


STATEMENT_NUMBER = path_parameter("number", str, "Numéro du relevé.", "REL-2026-000042")


class StatementView(StatementObjectMixin, APIView):
    @extend_schema(
        summary="Un relevé de remboursement",
        description="Avec ses encaissements par lieu et par service, et ses régularisations.",
        operation_id="statement_retrieve",
        parameters=[STATEMENT_NUMBER],
        responses={200: StatementDetailSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, number):
        return Response(selectors.statement_as_dict(self.get_object(number), with_lines=True))


class StatementPdfView(StatementObjectMixin, APIView):
    @extend_schema(
        summary="Le PDF d'un relevé",
        description="404 `not_found` tant que le PDF est en préparation (quelques minutes après l'émission).",
        operation_id="statement_pdf",
        parameters=[STATEMENT_NUMBER],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="Le relevé en PDF."),
            **ERROR_RESPONSES,
        },
    )
    def get(self, request, number):
        statement = self.get_object(number)
        if not statement.pdf:
            raise DomainError(
                "Le PDF de ce relevé est en préparation : réessayez dans quelques minutes.",
                code="not_found",
                status=404,
            )
        record_download(
            request=request,
            document=statement,
            organisation=statement.site.organisation,
            file_name=f"{statement.number}.pdf",
        )
        return file_response(statement.pdf, f"{statement.number}.pdf")

"""``POST /api/v1/distributions``: a prescriber's own tool hands a booklet over, with an
``Idempotency-Key`` (a replay answers the first response and applies nothing more)."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.views import APIView

from beneficiaries import services
from beneficiaries.models import AgeBand
from passnum.api import (
    ERROR_RESPONSES,
    IDEMPOTENCY_KEY_PARAMETER,
    StrictBooleanField,
    StrictCharField,
    answer_response,
    api_organisation,
    error_response,
    idempotency_key,
    request_hash,
)
from passnum.errors import DomainError
from passnum.idempotency import services as idempotency
from passnum.organisations.enums import OrganisationKind
from passnum.passes import selectors as pass_selectors
from passnum.refusals import HAND_OVER_REFUSALS, documented

# The idempotency scope of this API (``passnum.idempotency``).
SCOPE = "distributions"


class BeneficiaryInSerializer(serializers.Serializer):
    age_band = serializers.ChoiceField(choices=AgeBand.values, help_text="Tranche d'âge.")
    commune = serializers.RegexField(
        r"^(\d{5}|2[AB]\d{3})$",
        max_length=5,
        help_text="Code INSEE de la commune de résidence, connu du référentiel des communes (sinon insee_unknown).",
    )
    audiences = serializers.ListField(
        child=StrictCharField(max_length=200, allow_blank=True),
        max_length=20,
        required=False,
        default=list,
        help_text="Codes des publics visés par le programme qui concernent la personne (par exemple « seniors » ; "
        "le libellé, « Seniors », est aussi compris).",
    )
    contact_consent = StrictBooleanField(help_text="La personne accepte d'être recontactée.")
    email = StrictCharField(
        required=False, allow_blank=True, max_length=254, help_text="E-mail, seulement avec le consentement."
    )
    phone = serializers.RegexField(r"^\+?[0-9]{9,15}$", required=False, allow_blank=True, max_length=16)
    name = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=150,
        help_text="Nom et prénom, seulement si le programme le demande (refusé sinon), avec `name_consent`.",
    )
    name_consent = StrictBooleanField(
        required=False, default=False, help_text="La personne accepte que son nom soit noté."
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Un carnet remis à une personne de 60 à 74 ans",
            value={
                "booklet_serial": "GIR000123",
                "beneficiary": {
                    "age_band": "60-74",
                    "commune": "33063",
                    "audiences": ["seniors"],
                    "contact_consent": False,
                },
            },
            request_only=True,
        )
    ]
)
class DistributionInSerializer(serializers.Serializer):
    booklet_serial = serializers.RegexField(
        r"^[A-Za-z0-9 _.\-]{1,40}$", max_length=40, help_text="Numéro du carnet, par exemple GIR000123."
    )
    beneficiary = BeneficiaryInSerializer()
    exception_reason = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="Raison d'une dérogation, si le programme en accepte et que la personne est hors critères.",
    )


class DistributionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    booklet_serial = serializers.CharField()
    programme = serializers.CharField()
    handed_out_at = serializers.DateTimeField()
    active_passes = serializers.IntegerField()
    valid_until = serializers.DateField()
    is_exception = serializers.BooleanField()


class DistributionView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Remettre un carnet à un bénéficiaire",
        description=(
            "Active les pass du carnet (si la commande est payée). Rejouer la requête avec le même "
            "`Idempotency-Key` renvoie la première réponse sans rien refaire ; la même clé avec un autre "
            f"corps est refusée. Refus : {documented(HAND_OVER_REFUSALS)}."
        ),
        request=DistributionInSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: DistributionSerializer,
            **ERROR_RESPONSES,
            409: error_response("Le carnet ne peut pas être remis, ou clé d'idempotence réutilisée."),
        },
    )
    def post(self, request):
        organisation = api_organisation(request)
        if organisation is None or organisation.kind != OrganisationKind.PRESCRIBER:
            raise DomainError("Seul un prescripteur peut remettre un carnet.", code="permission_denied", status=403)
        key = idempotency_key(request)
        serializer = DistributionInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # A retry hands nothing over again: its hand-over is refused and rolled back, its key's
        # insert fails, and the first answer is sent (``passnum.idempotency``).
        answer = idempotency.answer_once(
            organisation_id=organisation.pk,
            scope=SCOPE,
            key=key,
            request_hash=request_hash(request.data),
            apply=lambda: self._hand_over(organisation, data, request),
        )
        return answer_response(answer.status, answer.body)

    def _hand_over(self, organisation, data, request):
        handover, _ = services.hand_over(
            organisation,
            data["booklet_serial"],
            dict(data["beneficiary"]),
            user=request.user if request.user.is_authenticated else None,
            exception_reason=data.get("exception_reason", ""),
            request=request._request,
        )
        summary = pass_selectors.booklet_summary(handover.booklet)
        body = DistributionSerializer(
            {
                "id": handover.pk,
                "booklet_serial": handover.booklet.serial,
                "programme": handover.booklet.programme.name,
                "handed_out_at": handover.at,
                "active_passes": summary["usable"],
                "valid_until": summary["valid_until"],
                "is_exception": handover.is_exception,
            }
        ).data
        return idempotency.Answer(201, idempotency.render(body), str(handover.pk))

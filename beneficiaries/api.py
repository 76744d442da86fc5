"""``POST /api/v1/distributions``: a prescriber's own tool hands a booklet over, with an
``Idempotency-Key`` (a replay answers the first response and applies nothing more)."""

import json

from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from beneficiaries import services
from beneficiaries.models import AgeBand, IdempotencyRecord
from passnum.api import (
    ERROR_RESPONSES,
    IDEMPOTENCY_KEY_PARAMETER,
    api_organisation,
    error_response,
    idempotency_key,
    request_hash,
)
from passnum.errors import DomainError
from passnum.organisations.enums import OrganisationKind
from passnum.passes import selectors as pass_selectors
from passnum.refusals import HAND_OVER_REFUSALS, Refusal, documented

ENDPOINT = "distributions"


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true``/``false`` only (no "yes", 1…): the schema says boolean."""

    def to_internal_value(self, data):
        if data is True or data is False:
            return data
        self.fail("invalid", input=data)


class StrictCharField(serializers.CharField):
    """A JSON string only (no number turned into text); control characters and lone surrogates,
    which the schema allows, are dropped rather than refused."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if type(v).__name__ != "ProhibitNullCharactersValidator"]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        data = data.encode("utf-8", "replace").decode("utf-8")
        data = "".join(ch for ch in data if ch.isprintable() or ch in "\n\t")
        return super().to_internal_value(data)


class BeneficiaryInSerializer(serializers.Serializer):
    age_band = serializers.ChoiceField(choices=AgeBand.values, help_text="Tranche d'âge.")
    commune = serializers.RegexField(
        r"^(\d{5}|2[AB]\d{3})$", max_length=5, help_text="Code INSEE de la commune (format seulement vérifié)."
    )
    audiences = serializers.ListField(
        child=StrictCharField(max_length=200, allow_blank=True),
        max_length=20,
        required=False,
        default=list,
        help_text="Publics visés par le programme qui concernent la personne.",
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
                    "audiences": ["Seniors"],
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
        digest = request_hash(request.data)
        try:
            with transaction.atomic():
                status, body = self._apply(organisation, key, digest, data, request)
        except IntegrityError:
            # The same key, raced by a concurrent request: answer its stored response.
            replay = self._replay(organisation, key, digest)
            if replay is None:
                raise DomainError("Requête concurrente : réessayez.", code=Refusal.CONFLICT) from None
            status, body = replay
        return Response(body, status=status)

    def _replay(self, organisation, key, digest):
        record = IdempotencyRecord.objects.for_organisation(organisation).filter(endpoint=ENDPOINT, key=key).first()
        if record is None:
            return None
        if record.request_hash != digest:
            raise DomainError(
                "Cette clé d'idempotence a déjà servi pour une autre requête : utilisez une nouvelle clé.",
                code=Refusal.IDEMPOTENCY_KEY_REUSED,
            )
        return record.status_code, record.response_body

    def _apply(self, organisation, key, digest, data, request):
        replay = self._replay(organisation, key, digest)
        if replay:
            return replay
        # Wait for a concurrent request on the same booklet, then look for the key again.
        pass_selectors.booklet_by_serial(data["booklet_serial"], for_update=True)
        replay = self._replay(organisation, key, digest)
        if replay:
            return replay
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
        IdempotencyRecord.objects.create(
            organisation=organisation,
            key=key,
            endpoint=ENDPOINT,
            request_hash=digest,
            status_code=201,
            response_body=json.loads(json.dumps(body, default=str)),
            hand_over=handover,
        )
        return 201, body

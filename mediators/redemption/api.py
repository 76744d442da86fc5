"""The redemption API sites' tools rely on: redeem (idempotent), check a pass without redeeming
it, list a month's redemptions, undo.
"""

import copy
import datetime
import json
import re

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from mediators.qualification.selectors import check_site_may_check_passes
from mediators.redemption import selectors, services
from mediators.redemption.models import Redemption
from passnum.api import (
    ERROR_RESPONSES,
    IDEMPOTENCY_KEY,
    IDEMPOTENCY_KEY_PARAMETER,
    Pagination,
    StrictCharField,
    StrictIntegerField,
    TenantScopedMixin,
    answer_response,
    api_organisation,
    error_response,
    idempotency_key,
    path_parameter,
    request_hash,
)
from passnum.api_auth import OrganisationTokenAuthentication
from passnum.errors import DomainError
from passnum.organisations.enums import OrganisationKind
from passnum.passes import selectors as pass_selectors
from passnum.passes.codes import grouped
from passnum.passes.models import PassState
from passnum.ratelimit import RateLimited, check_lookups_allowed, count_failed_lookup, lookup_caller
from passnum.refusals import (
    FAILED_LOOKUPS,
    PASS_CHECK_REFUSALS,
    REDEMPTION_REFUSALS,
    REDEMPTION_UNDO_REFUSALS,
    documented,
)

MONTH = re.compile(r"^([12]\d{3})-(0[1-9]|1[0-2])$", re.ASCII)


class RedemptionInSerializer(serializers.Serializer):
    """The body of ``POST /api/v1/redemptions``: documents it and validates it (``invalid`` with
    the wrong fields). Kept lean: plain fields, strict JSON types (no "1" for 1), the scan time
    in UTC."""

    codes = serializers.ListField(
        child=StrictCharField(max_length=services.MAX_ENTRY_LENGTH),
        min_length=1,
        max_length=services.MAX_CODES,
        help_text="Codes des pass tels que scannés ou tapés (URL du QR code acceptée), d'un même carnet.",
    )
    service = StrictIntegerField(
        min_value=1, max_value=2**31 - 1, help_text="Code #APTIC du service, au catalogue de la structure."
    )
    point_of_presence = StrictIntegerField(
        min_value=1, max_value=2**31 - 1, help_text="Identifiant du lieu de la structure."
    )
    beneficiary_share_cents = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=2**31 - 1,
        help_text="Reste à charge payé par la personne, en centimes (0 par défaut).",
    )
    scanned_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Heure du scan (file d'attente hors ligne) ; maintenant par défaut.",
    )

    def get_fields(self):
        # DRF deep-copies the declared fields for every body (about half of the validation's
        # CPU); these hold no state of a request, so a shallow copy of each is enough.
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    def validate_scanned_at(self, value):
        if value is None:
            return None
        try:  # stored in UTC: PostgreSQL refuses offsets beyond ±15:59
            return value.astimezone(datetime.UTC)
        except (OverflowError, ValueError):
            raise serializers.ValidationError("Date et heure hors des limites.") from None

    def to_scan(self):
        """The validated body → keyword arguments of ``services.redeem_once``."""
        data = self.validated_data
        return {
            "codes_entered": data["codes"],
            "service_code": data["service"],
            "point_id": data["point_of_presence"],
            "beneficiary_share_cents": data.get("beneficiary_share_cents"),
            "scanned_at": data.get("scanned_at"),
        }


class RedemptionServiceSerializer(serializers.Serializer):
    code = serializers.IntegerField()
    title = serializers.CharField()


class RedemptionPlaceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RedemptionSerializer(serializers.Serializer):
    """Documents a redemption as ``selectors.redemption_as_dict`` writes it."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=["live", "undone"])
    codes = serializers.ListField(child=serializers.CharField())
    booklet = serializers.CharField()
    programme = serializers.CharField()
    service = RedemptionServiceSerializer()
    point_of_presence = RedemptionPlaceSerializer()
    pass_count = serializers.IntegerField()
    amount_cents = serializers.IntegerField(help_text="Montant remboursé à la structure, en centimes.")
    beneficiary_share_cents = serializers.IntegerField()
    scanned_at = serializers.DateTimeField()
    redeemed_at = serializers.DateTimeField()
    undo_until = serializers.DateTimeField(help_text="Annulation possible jusqu'à cette heure.")
    undone_at = serializers.DateTimeField(allow_null=True)


class RedemptionQuerySerializer(serializers.Serializer):
    month = serializers.RegexField(MONTH, required=False, help_text="Mois au format AAAA-MM.")
    page = serializers.IntegerField(required=False, min_value=1, help_text="Numéro de page, à partir de 1.")


class RedemptionPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RedemptionSerializer(many=True)


class PassCheckSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Code du pass, groupé pour la lecture.")
    state = serializers.ChoiceField(choices=PassState.choices)
    state_label = serializers.CharField(
        help_text="L'état en mots ; un pass pas encore remis dit aussi si sa commande est payée."
    )
    redeemable = serializers.BooleanField(help_text="Encaissable ici et maintenant (hors choix du service).")
    refusal = serializers.DictField(allow_null=True, help_text="Le refus qu'un encaissement recevrait (code, message).")
    face_value_cents = serializers.IntegerField()
    valid_until = serializers.DateField()
    expires_on = serializers.DateField()
    programme = serializers.CharField()
    booklet = serializers.CharField()


def site_organisation(request):
    """The site an API request acts for; other kinds of organisation may not redeem."""
    organisation = api_organisation(request)
    if organisation is None or organisation.kind != OrganisationKind.SITE:
        raise DomainError(
            "Seule une structure de médiation peut encaisser des pass.", code="permission_denied", status=403
        )
    return organisation


class PassCheckView(APIView):
    """``GET /api/v1/passes/{code}``: a pass tested without redeeming it."""

    tenant_public = "code d'un pass : celui qui le détient peut le tester, sans rien voir d'autre"

    @extend_schema(
        summary="Tester un pass sans l'encaisser",
        description=(
            "État du pass et refus qu'un encaissement recevrait ici. Les codes illisibles, mal tapés ou "
            "inconnus répétés sont limités par utilisateur et par adresse IP (429, en-tête Retry-After). "
            f"Refus : {documented(PASS_CHECK_REFUSALS)}."
        ),
        parameters=[path_parameter("code", str, "Code du pass, tel que scanné ou tapé.", "GZ2E AVFW 4W49D")],
        responses={200: PassCheckSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, code):
        organisation = site_organisation(request)
        check_site_may_check_passes(organisation=organisation)
        caller = lookup_caller(request)
        check_lookups_allowed(caller)
        try:
            pass_, refusal = services.check_pass_at_site(organisation, code)
        except services.RedemptionRefused as error:
            if error.code in FAILED_LOOKUPS:
                count_failed_lookup(caller)
            raise
        return Response(
            {
                "code": grouped(pass_.code),
                "state": pass_.state,
                "state_label": pass_selectors.pass_state_label(pass_id=pass_.pk, state=pass_.state),
                "redeemable": refusal is None,
                "refusal": None if refusal is None else {"code": refusal.code, "message": refusal.message},
                "face_value_cents": pass_.face_value_cents,
                "valid_until": pass_.valid_until,
                "expires_on": pass_.expires_on,
                "programme": pass_.programme.name,
                "booklet": pass_.booklet.serial,
            }
        )


class RedemptionsView(APIView):
    """``POST /api/v1/redemptions`` (redeem, idempotent) and ``GET`` (a month's redemptions)."""

    parser_classes = [JSONParser]

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            response = self.redeem_lean(request)
            if response is not None:
                return response
        return super().dispatch(request, *args, **kwargs)

    def redeem_lean(self, request):
        """A device's scan (token, JSON body), without DRF's request wrapping: the same steps as
        ``post`` — token, site, key, body checked by its serializer, limits, ``redeem_once`` —
        on Django's request. Whatever is not a well-formed scan by a site's token (no token or a
        bad one, a session, a body or key to refuse, a rate limit) returns None before anything
        is written, and ``post`` answers it through DRF as every endpoint does."""
        if request.content_type != "application/json":
            return None
        try:
            authenticated = OrganisationTokenAuthentication().authenticate(request)
        except AuthenticationFailed:
            return None
        if authenticated is None or authenticated[1].organisation.kind != OrganisationKind.SITE:
            return None
        user, token = authenticated
        key = request.headers.get("Idempotency-Key", "")
        try:
            data = json.loads(request.body, parse_constant=_refuse_constant)
        except ValueError:
            return None
        body = RedemptionInSerializer(data=data)
        if not IDEMPOTENCY_KEY.match(key) or not body.is_valid():
            return None
        caller = f"token:{token.pk}"  # as lookup_caller says of a token (a device)
        try:
            check_lookups_allowed(caller)
        except RateLimited:
            return None
        status, answer = services.redeem_once(
            token.organisation, key=key, request_hash=request_hash(data), user=user, **body.to_scan()
        )
        if status >= 400 and json.loads(answer)["error"]["code"] in FAILED_LOOKUPS:
            count_failed_lookup(caller)
        response = answer_response(status, answer)
        for name, value in self.default_response_headers.items():  # as DRF's answers
            response[name] = value
        return response

    @extend_schema(
        summary="Encaisser des pass",
        description=(
            "Encaisse d'un coup les pass d'un même carnet pour un service du catalogue, en un lieu de la "
            "structure. Rejouer la requête avec le même `Idempotency-Key` renvoie la même réponse (statut et "
            "corps) sans rien refaire ; la même clé avec un autre corps est refusée. Un pass déjà encaissé "
            "donne aussi `redeemed_at` et, pour la même structure, `redeemed_by`. Chaque scan refusé est "
            "journalisé. Refus (`error.code` ; `error.codes` = les codes de pass en cause) : "
            f"{documented(REDEMPTION_REFUSALS)}."
        ),
        request=RedemptionInSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        examples=[
            OpenApiExample(
                "Un atelier payé par un pass",
                value={
                    "codes": ["GZ2E AVFW 4W49D"],
                    "service": 3,
                    "point_of_presence": 1,
                    "beneficiary_share_cents": 0,
                },
                request_only=True,
            )
        ],
        responses={
            201: RedemptionSerializer,
            **ERROR_RESPONSES,
            409: error_response("Pass non encaissable, service refusé, ou clé d'idempotence réutilisée."),
        },
    )
    def post(self, request):
        organisation = site_organisation(request)
        key = idempotency_key(request)
        body = RedemptionInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        caller = lookup_caller(request)
        check_lookups_allowed(caller)
        status, answer = services.redeem_once(
            organisation, key=key, request_hash=request_hash(request.data), user=request.user, **body.to_scan()
        )
        if status >= 400 and json.loads(answer)["error"]["code"] in FAILED_LOOKUPS:
            count_failed_lookup(caller)
        return answer_response(status, answer)

    @extend_schema(
        summary="Encaissements de la structure",
        description="Les encaissements d'un mois (`month=AAAA-MM`, le mois en cours par défaut), du plus récent "
        "au plus ancien, y compris les annulés (`status`).",
        operation_id="redemptions_list",
        parameters=[RedemptionQuerySerializer],
        responses={200: RedemptionPageSerializer, **ERROR_RESPONSES},
    )
    def get(self, request):
        organisation = site_organisation(request)
        month = read_month(request.query_params.get("month"))
        redemptions = selectors.redemptions_of(organisation, month=month)
        paginator = Pagination()
        page = paginator.paginate_queryset(redemptions, request, view=self)
        return paginator.get_paginated_response([selectors.redemption_as_dict(r) for r in page])


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: DRF's parser refuses them too


def read_month(text):
    """``AAAA-MM`` → the first day of that month (this month when absent)."""
    if text is None:
        return timezone.localdate().replace(day=1)
    match = MONTH.match(text)
    if match:
        return datetime.date(int(match.group(1)), int(match.group(2)), 1)
    raise DomainError(
        "Mois invalide : utilisez le format AAAA-MM, par exemple 2026-11.",
        code="invalid",
        fields={"month": ["Format AAAA-MM attendu."]},
    )


REDEMPTION_ID = path_parameter(
    "id", OpenApiTypes.UUID, "Identifiant de l'encaissement.", "5b0f3a52-8d1e-4c7a-9f26-0e4d1c3b7a90"
)


class RedemptionView(TenantScopedMixin, APIView):
    """``GET``/``DELETE /api/v1/redemptions/{id}``: one redemption, undone within 24 hours."""

    queryset = Redemption.objects.select_related("service", "point_of_presence", "booklet", "programme")

    def get_queryset(self):
        return self.queryset.for_organisation(api_organisation(self.request)).prefetch_related("lines__pass_ref")

    def get_object(self, pk):
        site_organisation(self.request)
        return get_object_or_404(self.get_queryset(), pk=pk)

    @extend_schema(
        summary="Un encaissement",
        operation_id="redemption_retrieve",
        parameters=[REDEMPTION_ID],
        responses={200: RedemptionSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, pk):
        return Response(selectors.redemption_as_dict(self.get_object(pk)))

    @extend_schema(
        summary="Annuler un encaissement",
        parameters=[REDEMPTION_ID],
        description="Dans les 24 heures, jamais une fois sur un relevé : les pass redeviennent utilisables. "
        f"Refus : {documented(REDEMPTION_UNDO_REFUSALS)}.",
        responses={
            200: RedemptionSerializer,
            **ERROR_RESPONSES,
            409: error_response("Annulation impossible (délai passé, déjà réglé ou déjà annulé)."),
        },
    )
    def delete(self, request, pk):
        redemption = self.get_object(pk)
        services.undo_redemption(api_organisation(request), redemption.pk, user=request.user)
        return Response(selectors.redemption_as_dict(self.get_object(pk)))

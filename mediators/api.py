"""Open data: every qualified point de présence in the national schema of mediation places
(LaMednum/standard-mediation-num v1.0.2), as JSON and CSV. Public and read only."""

import csv
import datetime
import io
import re

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import get_object_or_404
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from mediators import selectors, services
from mediators.models import Redemption
from mediators.selectors import OPEN_DATA_FIELDS, open_data_rows
from passnum.api import (
    ERROR_RESPONSES,
    IDEMPOTENCY_KEY_PARAMETER,
    PUBLIC_ERROR_RESPONSES,
    Pagination,
    TenantScopedMixin,
    api_organisation,
    error_response,
    idempotency_key,
    path_parameter,
    request_hash,
)
from passnum.audit.services import client_ip
from passnum.errors import DomainError
from passnum.organisations.enums import OrganisationKind
from passnum.passes.codes import grouped
from passnum.passes.models import PassState
from passnum.ratelimit import FAILED_LOOKUPS, check_lookups_allowed, count_failed_lookup

MONTH = re.compile(r"^([12]\d{3})-(0[1-9]|1[0-2])$", re.ASCII)
SCHEMA_REFERENCE = "https://github.com/LaMednum/standard-mediation-num (v1.0.2)"


class OpenDataPlaceSerializer(serializers.Serializer):
    """One place in the national schema; empty text when unknown."""

    id = serializers.CharField(help_text="Identifiant unique local (passnum-<n>).")
    pivot = serializers.CharField(help_text="SIRET de la structure.")
    nom = serializers.CharField()
    commune = serializers.CharField()
    code_postal = serializers.CharField()
    code_insee = serializers.CharField()
    adresse = serializers.CharField()
    complement_adresse = serializers.CharField(allow_blank=True)
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    typologie = serializers.CharField(allow_blank=True)
    telephone = serializers.CharField(allow_blank=True)
    courriels = serializers.CharField(allow_blank=True)
    site_web = serializers.CharField(allow_blank=True)
    horaires = serializers.CharField(allow_blank=True)
    presentation_resume = serializers.CharField(allow_blank=True)
    presentation_detail = serializers.CharField(help_text="Indique l'acceptation du Pass numérique.")
    source = serializers.CharField()
    itinerance = serializers.CharField()
    structure_parente = serializers.CharField(allow_blank=True)
    date_maj = serializers.DateField()
    services = serializers.CharField(allow_blank=True)
    publics_specifiquement_adresses = serializers.CharField(allow_blank=True)
    prise_en_charge_specifique = serializers.CharField(allow_blank=True)
    frais_a_charge = serializers.CharField()
    dispositif_programmes_nationaux = serializers.CharField(allow_blank=True)
    formations_labels = serializers.CharField(allow_blank=True)
    autres_formations_labels = serializers.CharField(help_text="Indique l'acceptation du Pass numérique.")
    modalites_acces = serializers.CharField(allow_blank=True)
    modalites_accompagnement = serializers.CharField(allow_blank=True)
    fiche_acces_libre = serializers.CharField(allow_blank=True)
    prise_rdv = serializers.CharField(allow_blank=True)


class IgnoreClientContentNegotiation(BaseContentNegotiation):
    """Each open-data URL has one format: the Accept header does not change it."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if not isinstance(data, list):  # an error: code and message on one line
            error = data.get("error", {}) if isinstance(data, dict) else {}
            return rows_as_csv([], fieldnames=["code", "message"], extra=[error]).encode("utf-8")
        return rows_as_csv(data).encode("utf-8")


def rows_as_csv(rows, fieldnames=None, extra=()):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fieldnames or OPEN_DATA_FIELDS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in [*rows, *extra]:
        writer.writerow(row)
    return out.getvalue()


class OpenDataView(APIView):
    tenant_public = "données ouvertes des lieux qualifiés"
    permission_classes = [AllowAny]
    authentication_classes = []
    content_negotiation_class = IgnoreClientContentNegotiation
    metadata_class = None  # no OPTIONS description: GET only


class SitesOpenDataView(OpenDataView):
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="Lieux qualifiés (données ouvertes, JSON)",
        description="Chaque point de présence d'une structure qualifiée, au schéma national "
        + SCHEMA_REFERENCE
        + ". L'acceptation du Pass numérique figure dans `autres_formations_labels` et `presentation_detail`.",
        responses={200: OpenDataPlaceSerializer(many=True), **PUBLIC_ERROR_RESPONSES},
        auth=[],
    )
    def get(self, request):
        return Response(open_data_rows())


class SitesCsvOpenDataView(OpenDataView):
    renderer_classes = [CSVRenderer]

    @extend_schema(
        summary="Lieux qualifiés (données ouvertes, CSV)",
        description="Le même contenu en CSV (UTF-8, virgules), valide au schéma national " + SCHEMA_REFERENCE + ".",
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="Fichier CSV.")},
        auth=[],
    )
    def get(self, request):
        response = Response(open_data_rows())
        response["Content-Disposition"] = 'inline; filename="lieux-pass-numerique.csv"'
        return response


# --- Redemption (DESIGN §5: the contract sites' tools rely on) ---------------------------------


class RedemptionInSerializer(serializers.Serializer):
    """Documents the body of ``POST /api/v1/redemptions`` (read by ``read_scan``, kept lean)."""

    codes = serializers.ListField(
        child=serializers.CharField(max_length=300),
        min_length=1,
        max_length=services.MAX_CODES,
        help_text="Codes des pass tels que scannés ou tapés (URL du QR code acceptée), d'un même carnet.",
    )
    service = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="Code #APTIC du service, au catalogue de la structure."
    )
    point_of_presence = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="Identifiant du lieu de la structure."
    )
    beneficiary_share_cents = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        help_text="Reste à charge payé par la personne, en centimes (0 par défaut).",
    )
    scanned_at = serializers.DateTimeField(
        required=False, help_text="Heure du scan (file d'attente hors ligne) ; maintenant par défaut."
    )


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
    state_label = serializers.CharField()
    redeemable = serializers.BooleanField(help_text="Encaissable ici et maintenant (hors choix du service).")
    refusal = serializers.DictField(allow_null=True, help_text="Le refus qu'un encaissement recevrait (code, message).")
    face_value_cents = serializers.IntegerField()
    valid_until = serializers.DateField()
    expires_on = serializers.DateField()
    programme = serializers.CharField()
    booklet = serializers.CharField()


def read_scan(data):
    """The body of a redemption → keyword arguments of ``services.redeem_once``; a body that is
    not shaped as documented is refused with ``invalid`` and the wrong fields."""
    if not isinstance(data, dict):
        raise DomainError("Envoyez un objet JSON.", code="invalid", fields={"body": ["Objet JSON attendu."]})
    wrong = {}
    scan = {"codes_entered": data.get("codes")}
    if not isinstance(scan["codes_entered"], list) or not all(isinstance(c, str) for c in scan["codes_entered"]):
        wrong["codes"] = ["Liste de codes (textes) attendue."]
    for field, name in (("service", "service_code"), ("point_of_presence", "point_id")):
        value = data.get(field)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
            wrong[field] = ["Nombre entier positif attendu."]
        scan[name] = value
    share = data.get("beneficiary_share_cents")
    if share is not None and (isinstance(share, bool) or not isinstance(share, int) or abs(share) >= 2**31):
        wrong["beneficiary_share_cents"] = ["Nombre entier de centimes attendu."]
    scan["beneficiary_share_cents"] = share
    scanned_at = data.get("scanned_at")
    if scanned_at is not None:
        parsed = parse_datetime(scanned_at) if isinstance(scanned_at, str) and len(scanned_at) <= 40 else None
        if parsed is None:
            wrong["scanned_at"] = ["Date et heure ISO 8601 attendues, par exemple 2026-11-23T10:15:00+01:00."]
        else:
            try:  # stored in UTC: PostgreSQL refuses offsets beyond ±15:59
                parsed = (timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed).astimezone(datetime.UTC)
            except (OverflowError, ValueError):
                wrong["scanned_at"] = ["Date et heure hors des limites."]
        scanned_at = parsed
    scan["scanned_at"] = scanned_at
    if wrong:
        raise DomainError("Données invalides : corrigez les champs signalés.", code="invalid", fields=wrong)
    return scan


def site_organisation(request):
    """The site an API request acts for; other kinds of organisation may not redeem."""
    organisation = api_organisation(request)
    if organisation is None or organisation.kind != OrganisationKind.SITE:
        raise DomainError(
            "Seule une structure de médiation peut encaisser des pass.", code="permission_denied", status=403
        )
    return organisation


def _lookup_identity(request):
    return request.user.pk, client_ip(request._request)


class PassCheckView(APIView):
    """``GET /api/v1/passes/{code}``: a pass tested without redeeming it."""

    tenant_public = "code d'un pass : celui qui le détient peut le tester, sans rien voir d'autre"

    @extend_schema(
        summary="Tester un pass sans l'encaisser",
        description=(
            "État du pass et refus qu'un encaissement recevrait ici (`pass_not_active`, `pass_already_redeemed`, "
            "`pass_expired`, `pass_cancelled`, `site_not_qualified`, `site_suspended`). Aucun pass sous ce code : "
            "404 avec `code_malformed` (illisible), `code_mistyped` (faute de frappe) ou `pass_unknown`. "
            "Les échecs répétés sont limités par utilisateur et par adresse IP (429 `rate_limited`, "
            "en-tête Retry-After)."
        ),
        parameters=[path_parameter("code", str, "Code du pass, tel que scanné ou tapé.", "GZ2E AVFW 4W49D")],
        responses={200: PassCheckSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, code):
        organisation = site_organisation(request)
        user_id, ip = _lookup_identity(request)
        check_lookups_allowed(user_id, ip)
        try:
            pass_, refusal = services.check_pass_at_site(organisation, code)
        except services.RedemptionRefused as error:
            if error.code in FAILED_LOOKUPS:
                count_failed_lookup(user_id, ip)
            raise
        return Response(
            {
                "code": grouped(pass_.code),
                "state": pass_.state,
                "state_label": pass_.get_state_display(),
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

    @extend_schema(
        summary="Encaisser des pass",
        description=(
            "Encaisse d'un coup les pass d'un même carnet pour un service du catalogue, en un lieu de la "
            "structure. Rejouer la requête avec le même `Idempotency-Key` renvoie la même réponse (statut et "
            "corps) sans rien refaire ; la même clé avec un autre corps : 409 `idempotency_key_reused`. Refus "
            "(`error.code`, `error.codes` = les codes en cause) : `code_malformed`, `code_mistyped`, "
            "`pass_unknown`, `pass_not_active`, `pass_already_redeemed` (avec `redeemed_at` et, pour la même "
            "structure, `redeemed_by`), `pass_expired`, `pass_cancelled`, `site_not_qualified`, `site_suspended`, "
            "`service_not_in_catalogue`, `service_not_eligible`, `site_out_of_territory`, "
            "`passes_from_different_booklets`, `wrong_pass_count`, `point_of_presence_unknown`, "
            "`beneficiary_share_invalid`, `scanned_at_invalid`, `rate_limited`. Chaque scan refusé est journalisé."
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
        scan = read_scan(request.data)
        user_id, ip = _lookup_identity(request)
        check_lookups_allowed(user_id, ip)
        status, body = services.redeem_once(
            organisation, key=key, request_hash=request_hash(request.data), user=request.user, **scan
        )
        if status >= 400 and body["error"]["code"] in FAILED_LOOKUPS:
            count_failed_lookup(user_id, ip)
        return Response(body, status=status)

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
        "Refus (409) : `undo_window_over`, `redemption_settled`, `redemption_already_undone`.",
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

"""Open data: every qualified point de présence in the national schema of mediation places
(LaMednum/standard-mediation-num v1.0.2), as JSON and CSV. Public and read only.
"""

import io

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from mediators.places.selectors import OPEN_DATA_FIELDS, open_data_places, open_data_rows
from passnum import csv_export
from passnum.api import (
    PUBLIC_ERROR_RESPONSES,
)

SCHEMA_REFERENCE = "https://github.com/LaMednum/standard-mediation-num (v1.0.2)"


class OpenDataPlaceSerializer(serializers.Serializer):
    """One place in the national schema; a field left out when unknown (an empty cell in the CSV)."""

    id = serializers.CharField(help_text="Identifiant unique local (passnum-<n>).")
    pivot = serializers.CharField(help_text="SIRET de la structure.")
    nom = serializers.CharField()
    commune = serializers.CharField()
    code_postal = serializers.CharField()
    code_insee = serializers.CharField()
    adresse = serializers.CharField()
    complement_adresse = serializers.CharField(required=False)
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    typologie = serializers.CharField(required=False)
    telephone = serializers.CharField(required=False)
    courriels = serializers.CharField(required=False)
    site_web = serializers.CharField(required=False)
    horaires = serializers.CharField(required=False)
    presentation_resume = serializers.CharField(required=False)
    presentation_detail = serializers.CharField(help_text="Indique l'acceptation du Pass numérique.")
    source = serializers.CharField()
    itinerance = serializers.CharField()
    structure_parente = serializers.CharField(required=False)
    date_maj = serializers.DateField()
    services = serializers.CharField(required=False)
    publics_specifiquement_adresses = serializers.CharField(required=False)
    prise_en_charge_specifique = serializers.CharField(required=False)
    frais_a_charge = serializers.CharField()
    dispositif_programmes_nationaux = serializers.CharField(required=False)
    formations_labels = serializers.CharField(required=False)
    autres_formations_labels = serializers.CharField(help_text="Indique l'acceptation du Pass numérique.")
    modalites_acces = serializers.CharField(required=False)
    modalites_accompagnement = serializers.CharField(required=False)
    fiche_acces_libre = serializers.CharField(required=False)
    prise_rdv = serializers.CharField(required=False)


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
    writer = csv_export.dict_writer(
        out, fieldnames=fieldnames or OPEN_DATA_FIELDS, lineterminator="\n", extrasaction="ignore"
    )
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
        + ". L'acceptation du Pass numérique figure dans `autres_formations_labels` et `presentation_detail`. "
        "Un champ sans valeur connue est omis (le CSV garde la cellule vide).",
        responses={200: OpenDataPlaceSerializer(many=True), **PUBLIC_ERROR_RESPONSES},
        auth=[],
    )
    def get(self, request):
        return Response(open_data_places())


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

"""``GET /api/v1/reports/programmes/{id}``: a programme's report for its sponsor, in JSON or, with
``?format=csv``, in CSV — the tables of the programme page, small counts suppressed the same way.
Another organisation's programme answers 404."""

import io

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import get_object_or_404
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from passnum import csv_export
from passnum.api import ERROR_RESPONSES, TenantScopedMixin, api_organisation, path_parameter
from sponsors.models import Programme
from sponsors.reporting import selectors as reporting
from sponsors.reporting.periods import check_period
from sponsors.reporting.suppression import display
from sponsors.reporting.territory import check_territory

TABLES = [
    ("by_month", "Encaissements par mois"),
    ("by_week", "Encaissements par semaine"),
    ("by_service", "Encaissements par niveau, sous-catégorie et service #APTIC"),
    ("by_place", "Encaissements par structure et par lieu"),
    ("by_place_commune", "Encaissements par commune du lieu"),
    ("by_department", "Remises par département de la personne"),
    ("by_person_commune", "Remises par département et commune de la personne"),
    ("by_beneficiary_commune", "Encaissements par département et commune de la personne"),
    ("by_prescriber", "Remises par prescripteur, stock et stock qui dort"),
    ("by_audience", "Remises par public de la personne (qui compte dans chacun de ses publics : pas de total)"),
    ("by_age_band", "Remises par tranche d'âge de la personne"),
]
CSV_FIELDS = ["tableau", "niveau", "cle", "libelle", "nombre", "pass", "montant_centimes", "en_stock",
              "en_stock_60_jours"]  # fmt: skip


def _row(row) -> dict:
    """A row as the API shows it: hidden figures are null, ``suppressed`` says why."""
    hidden = row.get("hidden")
    body = {
        "key": row.get("key", "total"),
        "label": row.get("label", "Total"),
        "count": None if hidden else row.get("count"),
        "passes": None if hidden else row.get("passes"),
        "amount_cents": None if hidden else row.get("cents"),
        "suppressed": display(0, hidden) if hidden else None,
    }
    for name in ("in_stock", "idle"):
        if name in row:
            body[name] = row[name]
    if "per_month" in row:
        body["per_month"] = None if hidden else row["per_month"]
    if row.get("children"):
        body["children"] = [_row(child) for child in row["children"]]
    return body


def report_as_dict(programme, report) -> dict:
    return {
        "programme": {"id": programme.pk, "name": programme.name},
        "period": {"du": report["period"].as_params().get("du"), "au": report["period"].as_params().get("au")},
        "territory": (
            {"code": report["territory"].code, "kind": report["territory"].kind, "label": report["territory"].label}
            if report.get("territory")
            else None
        ),
        "counters": [_row(counter) for counter in report["counters"]],
        "pass_states": [
            {"key": row["key"], "label": row["label"], "passes": row["passes"], "amount_cents": row["cents"]}
            for row in report["pass_states"]["rows"]
        ],
        "tables": [
            {
                "key": key,
                "title": title,
                "rows": [_row(row) for row in report[key]["rows"]],
                "total": _row(report[key]["total"]) if report[key]["total"] else None,
            }
            for key, title in TABLES
        ],
    }


def report_as_csv_rows(data) -> list[dict]:
    """The tables of ``report_as_dict``, one line per row (children after their group)."""
    lines = []

    def add(table, row, level):
        lines.append(
            {
                "tableau": table,
                "niveau": level,
                "cle": row["key"],
                "libelle": row["label"],
                "nombre": row["suppressed"] or row["count"],
                "pass": row["suppressed"] or row.get("passes"),
                "montant_centimes": row["suppressed"] or row.get("amount_cents"),
                "en_stock": row.get("in_stock"),
                "en_stock_60_jours": row.get("idle"),
            }
        )
        for child in row.get("children", []):
            add(table, child, level + 1)

    for counter in data["counters"]:
        add("carnets", counter, 0)
    for state in data["pass_states"]:
        add("pass_par_etat", {**state, "count": state["passes"], "suppressed": None}, 0)
    for table in data["tables"]:
        for row in table["rows"]:
            add(table["key"], row, 0)
        if table["total"]:
            add(table["key"], table["total"], 0)
    return lines


class ReportCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        out = io.StringIO()
        if not isinstance(data, list):  # an error: code and message on one line
            writer = csv_export.dict_writer(out, fieldnames=["code", "message"], lineterminator="\n",
                                            extrasaction="ignore")  # fmt: skip
            writer.writeheader()
            writer.writerow(data.get("error", {}) if isinstance(data, dict) else {})
        else:
            writer = csv_export.dict_writer(out, fieldnames=CSV_FIELDS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(data)
        return out.getvalue().encode("utf-8")


class ReportLeafSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Identifiant de la ligne (code, numéro, mois…).")
    label = serializers.CharField(help_text="Intitulé de la ligne, en français.")
    count = serializers.IntegerField(allow_null=True, help_text="Nombre (encaissements ou remises) ; vide si masqué.")
    passes = serializers.IntegerField(allow_null=True, required=False, help_text="Pass utilisés ; vide si masqué.")
    amount_cents = serializers.IntegerField(
        allow_null=True, required=False, help_text="Montant en centimes ; vide si masqué."
    )
    suppressed = serializers.CharField(
        allow_null=True,
        help_text="« < 5 » (moins de 5) ou « masqué » (pour qu'on ne le retrouve pas par soustraction).",
    )
    per_month = serializers.FloatField(allow_null=True, required=False, help_text="Remises par mois (prescripteurs).")
    in_stock = serializers.IntegerField(required=False, help_text="Carnets en stock (prescripteurs).")
    idle = serializers.IntegerField(required=False, help_text="Carnets en stock sans mouvement depuis 60 jours.")


class ReportSubRowSerializer(ReportLeafSerializer):
    children = ReportLeafSerializer(many=True, required=False, help_text="Détail de la ligne.")


class ReportRowSerializer(ReportLeafSerializer):
    children = ReportSubRowSerializer(many=True, required=False, help_text="Détail de la ligne.")


class ReportTableSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Nom du tableau.")
    title = serializers.CharField(help_text="Titre du tableau, en français.")
    rows = ReportRowSerializer(many=True)
    total = ReportLeafSerializer(
        allow_null=True, help_text="Ligne du total ; null quand les lignes ne s'additionnent pas (publics)."
    )


class ReportProgrammeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="Nom du programme.")


class ReportPeriodSerializer(serializers.Serializer):
    du = serializers.CharField(allow_null=True, help_text="Premier mois (AAAA-MM), vide : depuis le début.")
    au = serializers.CharField(allow_null=True, help_text="Dernier mois (AAAA-MM), vide : jusqu'à aujourd'hui.")


class ReportPassStateSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="État des pass.")
    label = serializers.CharField(help_text="Intitulé de l'état.")
    passes = serializers.IntegerField(help_text="Nombre de pass.")
    amount_cents = serializers.IntegerField(help_text="Valeur faciale, en centimes.")


class ReportTerritorySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Code du département ou code INSEE de la commune.")
    kind = serializers.ChoiceField(choices=["department", "commune"], help_text="Département ou commune.")
    label = serializers.CharField(help_text="Nom du territoire, par exemple « Gironde (33) ».")


class ReportSerializer(serializers.Serializer):
    programme = ReportProgrammeSerializer()
    period = ReportPeriodSerializer()
    territory = ReportTerritorySerializer(
        allow_null=True,
        help_text="Le territoire demandé (encaissements dans ses lieux, remises à ses habitants) ; vide : tout le "
        "programme.",
    )
    counters = ReportLeafSerializer(many=True, help_text="Carnets émis, chez les prescripteurs, remis, etc.")
    pass_states = ReportPassStateSerializer(many=True)
    tables = ReportTableSerializer(many=True)


class ProgrammeReportView(TenantScopedMixin, APIView):
    queryset = Programme.objects.select_related("sponsor")
    lookup_field = "pk"
    lookup_url_kwarg = "id"
    renderer_classes = [JSONRenderer, ReportCSVRenderer]
    metadata_class = None  # no OPTIONS description: GET only

    def get_queryset(self):
        return self.queryset.for_organisation(api_organisation(self.request))

    @extend_schema(
        summary="Rapport d'un programme",
        description="Les chiffres de la page du programme pour son commanditaire : carnets, pass par état, "
        "encaissements par mois, semaine, service, lieu et commune (du lieu et de la personne), remises par "
        "département et commune de la personne et par prescripteur ; `territoire` restreint à un département "
        "ou une commune. Agrégats seulement : un nombre de 1 à 4 est remplacé par « < 5 » et un autre par "
        "« masqué » quand il permettrait de le retrouver. `format=csv` donne les mêmes lignes en CSV. "
        "Un programme d'une autre organisation répond 404.",
        operation_id="report_programme",
        parameters=[
            path_parameter("id", int, "Identifiant du programme.", 1),
            OpenApiParameter(
                "du", str, description="Premier mois (AAAA-MM).", examples=[OpenApiExample("Exemple", value="2026-01")]
            ),
            OpenApiParameter(
                "au", str, description="Dernier mois (AAAA-MM).", examples=[OpenApiExample("Exemple", value="2026-12")]
            ),
            OpenApiParameter(
                "territoire",
                str,
                description="Code d'un département ou code INSEE d'une commune : les "
                "encaissements dans les lieux de ce territoire, les remises aux personnes qui y habitent.",
                examples=[OpenApiExample("Exemple", value="33")],
            ),
            OpenApiParameter(
                "format", str, enum=["json", "csv"], description="Format de la réponse (JSON par défaut)."
            ),
        ],  # fmt: skip
        responses={
            (200, "application/json"): ReportSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="Les mêmes lignes en CSV."),
            **ERROR_RESPONSES,
        },
    )
    def get(self, request, id):  # noqa: A002 - the path parameter's documented name
        programme = get_object_or_404(self.get_queryset(), pk=id)
        period = check_period(
            first=request.query_params.get("du"), last=request.query_params.get("au"), today=timezone.localdate()
        )
        territory = check_territory(code=request.query_params.get("territoire"))
        data = report_as_dict(
            programme, reporting.programme_report(programme=programme, period=period, territory=territory)
        )
        if request.accepted_renderer.format == "csv":
            response = Response(report_as_csv_rows(data))
            response["Content-Disposition"] = f'attachment; filename="rapport-programme-{programme.pk}.csv"'
            return response
        return Response(data)

"""``GET /api/v1/booklets/{serial}``: a booklet of the prescriber's own stock (404 otherwise)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import RetrieveAPIView

from passnum.api import ERROR_RESPONSES, TenantScopedMixin, path_parameter
from passnum.passes import selectors as pass_selectors
from prescribers.models import HeldBooklet


class HeldBookletSerializer(serializers.ModelSerializer):
    programme = serializers.CharField(source="programme.name")
    passes = serializers.SerializerMethodField()
    active_passes = serializers.SerializerMethodField()
    valid_until = serializers.DateField(source="programme.valid_until")

    class Meta:
        model = HeldBooklet
        fields = ["serial", "state", "programme", "passes", "active_passes", "valid_until"]

    def _summary(self, obj):
        if not hasattr(obj, "_summary"):
            obj._summary = pass_selectors.booklet_summary(obj)
        return obj._summary

    def get_passes(self, obj) -> int:
        return self._summary(obj)["total"]

    def get_active_passes(self, obj) -> int:
        return self._summary(obj)["usable"]


class HeldBookletView(TenantScopedMixin, RetrieveAPIView):
    queryset = HeldBooklet.objects.select_related("programme")
    serializer_class = HeldBookletSerializer
    lookup_field = "serial"

    @extend_schema(
        summary="Un carnet du stock du prescripteur",
        description="État du carnet et nombre de pass actifs. 404 pour un carnet d'une autre organisation.",
        parameters=[path_parameter("serial", str, "Numéro du carnet, imprimé sur sa couverture.", "GIR000123")],
        responses={200: HeldBookletSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

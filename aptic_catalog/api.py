from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny

from aptic_catalog.selectors import active_services, service_matches
from passnum.api import PUBLIC_ERROR_RESPONSES, path_parameter


class ServiceSerializer(serializers.Serializer):
    code = serializers.IntegerField(help_text="Code APTIC (1 à 129).")
    title = serializers.CharField()
    level = serializers.IntegerField(source="subcategory.level.number")
    level_title = serializers.CharField(source="subcategory.level.title")
    subcategory = serializers.CharField(source="subcategory.code")
    subcategory_title = serializers.CharField(source="subcategory.title")
    theme = serializers.CharField(source="theme.title", allow_null=True, default=None)


@extend_schema_view(
    list=extend_schema(
        summary="Services du référentiel #APTIC",
        parameters=[OpenApiParameter("q", str, description="Recherche dans les intitulés, ou un code.")],
        responses={200: ServiceSerializer(many=True), **PUBLIC_ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="Un service du référentiel",
        parameters=[path_parameter("code", int, "Code #APTIC du service (1 à 129).", 3)],
        responses={200: ServiceSerializer, **PUBLIC_ERROR_RESPONSES},
    ),
)
class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    """The public referential: open to everyone, read only."""

    tenant_public = "référentiel national, public"
    serializer_class = ServiceSerializer
    permission_classes = [AllowAny]
    authentication_classes = []
    lookup_field = "code"
    lookup_value_regex = "[0-9]{1,4}"

    def get_queryset(self):
        return active_services()

    def filter_queryset(self, queryset):
        query = self.request.query_params.get("q", "")
        if not query.strip():
            return queryset
        return [service for service in queryset if service_matches(service, query)]

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from passnum.api import ERROR_RESPONSES, PUBLIC_ERROR_RESPONSES, TenantScopedMixin, api_organisation, path_parameter
from passnum.client_ip import client_ip
from passnum.errors import DomainError
from passnum.organisations import selectors, services
from passnum.organisations.models import Membership


class OrganisationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    siret = serializers.CharField()


class MembershipSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.get_full_name")

    class Meta:
        model = Membership
        fields = ["id", "email", "name", "role", "created_at"]


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField()
    organisation = OrganisationSerializer(allow_null=True)
    role = serializers.CharField(allow_null=True)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Qui suis-je ?", responses={200: MeSerializer, **ERROR_RESPONSES})
    def get(self, request):
        organisation = api_organisation(request)
        membership = (
            Membership.objects.active().filter(user=request.user, organisation=organisation).first()
            if organisation
            else None
        )
        data = {"email": request.user.email, "organisation": organisation, "role": getattr(membership, "role", None)}
        return Response(MeSerializer(data).data)


@extend_schema_view(
    list=extend_schema(
        summary="Membres de l'organisation", responses={200: MembershipSerializer(many=True), **ERROR_RESPONSES}
    ),
    retrieve=extend_schema(
        summary="Un membre de l'organisation",
        parameters=[path_parameter("id", int, "Identifiant de l'appartenance (champ `id` de la liste).", 42)],
        responses={200: MembershipSerializer, **ERROR_RESPONSES},
    ),
)
class MemberViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = MembershipSerializer
    queryset = Membership.objects.filter(is_active=True).select_related("user").order_by("pk")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Une douchette du guichet",
            value={"email": "guichet@ccas-exemple.fr", "password": "mot de passe du compte", "device": "Douchette 1"},
            request_only=True,
        )
    ]
)
class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(max_length=256, style={"input_type": "password"})
    device = serializers.CharField(
        max_length=100,
        required=False,
        default="Appareil",
        allow_blank=True,
        help_text="Nom de l'appareil, pour le reconnaître dans la liste des jetons.",
    )
    organisation = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Organisation pour laquelle agir (par défaut : la première).",
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="À envoyer dans l'en-tête « Authorization: Token … ». Affiché une seule fois."
    )
    organisation = OrganisationSerializer()


class LoginThrottle(AnonRateThrottle):
    scope = "api_login"
    rate = "10/min"

    def get_ident(self, request):
        # Never the raw X-Forwarded-For, which the client writes: the same reading as everywhere.
        return client_ip(request._request) or "unknown"


class TokenView(APIView):
    """Creates a per-organisation token for a device, from an e-mail and a password."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [LoginThrottle]
    # JSON only, like every other POST of the API: a form field cannot say null, which the
    # schema allows for ``organisation`` (a form-encoded body was refused with 400).
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Obtenir un jeton d'appareil",
        request=TokenRequestSerializer,
        responses={
            201: TokenResponseSerializer,
            **PUBLIC_ERROR_RESPONSES,
            401: ERROR_RESPONSES[401],
            403: ERROR_RESPONSES[403],
        },
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = services.authenticate_for_token(request=request._request, email=data["email"], password=data["password"])
        memberships = selectors.active_memberships(user)
        services.check_can_use_password_token(user, memberships)
        wanted = data["organisation"]
        membership = next((m for m in memberships if wanted in (None, m.organisation_id)), None)
        if membership is None:
            raise DomainError(
                "Vous ne faites partie d'aucune organisation correspondante.", code="no_organisation", status=403
            )
        _token, key = services.create_api_token(
            organisation=membership.organisation, user=user, name=data["device"] or "Appareil", request=request
        )
        return Response(
            {"token": key, "organisation": OrganisationSerializer(membership.organisation).data},
            status=status.HTTP_201_CREATED,
        )

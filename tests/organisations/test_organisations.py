import pytest
from django.core import mail
from django.urls import reverse

from passnum.audit.models import AuditLog
from passnum.organisations import services
from passnum.organisations.enums import OrganisationKind, Role
from passnum.organisations.models import Membership, Organisation
from passnum.organisations.services import OrganisationError
from tests.factories import InvitationFactory, MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

VALID_SIRET = "80010001800012"


class TestCreateOrganisation:
    def test_creates_with_its_first_admin_and_an_audit_entry(self):
        user = UserFactory()
        organisation = services.create_organisation(
            kind=OrganisationKind.SITE, name="EPN de Cenon", siret="800 100 018 00012", admin=user
        )
        assert organisation.siret == VALID_SIRET
        assert Membership.objects.get(organisation=organisation).role == Role.ADMIN
        assert AuditLog.objects.filter(action="organisation.created", target_id=str(organisation.pk)).exists()

    @pytest.mark.parametrize(
        ("siret", "code"),
        [
            ("80010001800013", "siret_checksum"),
            ("8001000180001", "siret_length"),
            ("8001000180001A", "siret_format"),
        ],
    )
    def test_invalid_siret_is_refused_in_french(self, siret, code):
        with pytest.raises(OrganisationError) as excinfo:
            services.create_organisation(kind=OrganisationKind.SITE, name="X", siret=siret)
        assert excinfo.value.code == code
        assert excinfo.value.field == "siret"
        assert "SIRET" in excinfo.value.message
        assert not Organisation.objects.exists()

    def test_duplicate_siret_is_refused(self):
        OrganisationFactory(siret=VALID_SIRET)
        with pytest.raises(OrganisationError) as excinfo:
            services.create_organisation(kind=OrganisationKind.SITE, name="Autre", siret=VALID_SIRET)
        assert excinfo.value.code == "siret_taken"
        assert "déjà inscrite" in excinfo.value.message
        assert Organisation.objects.count() == 1


class TestInvitations:
    def test_admin_invites_by_email_and_the_person_joins(self, client, member_of, django_capture_on_commit_callbacks):
        organisation = OrganisationFactory(prescriber=True)
        admin = member_of(organisation, role=Role.ADMIN)
        client.force_login(admin)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("organisations:invite"), {"email": "Nouvelle@Exemple.fr", "role": "member"})
        assert response.status_code == 302
        assert len(mail.outbox) == 1
        invitation = organisation.invitations.get()
        assert invitation.email == "nouvelle@exemple.fr"
        assert invitation.token in mail.outbox[0].body

        newcomer = UserFactory(email="nouvelle@exemple.fr")
        client.force_login(newcomer)
        response = client.post(reverse("organisations:invitation", args=[invitation.token]))
        assert response.status_code == 302
        membership = Membership.objects.get(user=newcomer)
        assert membership.organisation == organisation and membership.role == Role.MEMBER
        # Now acting for the new organisation.
        assert client.get(reverse("dashboard")).context["current_organisation"] == organisation

    def test_a_member_cannot_invite(self, client, member_of):
        organisation = OrganisationFactory()
        client.force_login(member_of(organisation, role=Role.MEMBER))
        response = client.post(reverse("organisations:invite"), {"email": "x@exemple.fr", "role": "admin"}, follow=True)
        assert "Seul un administrateur" in response.content.decode()
        assert not organisation.invitations.exists()

    def test_unknown_token_gets_a_french_page_not_a_500(self, client):
        response = client.get(reverse("organisations:invitation", args=["inconnu"]))
        assert response.status_code == 404
        assert "Cette invitation n&#x27;existe pas" in response.content.decode()

    def test_expired_invitation(self, client):
        invitation = InvitationFactory(expires_at="2000-01-01T00:00:00Z")
        response = client.get(reverse("organisations:invitation", args=[invitation.token]))
        assert response.status_code == 400
        assert "a expiré" in response.content.decode()

    def test_invitation_for_another_address_is_refused(self, client):
        invitation = InvitationFactory(email="prevu@exemple.fr")
        client.force_login(UserFactory(email="autre@exemple.fr"))
        response = client.post(reverse("organisations:invitation", args=[invitation.token]), follow=True)
        assert "prevu@exemple.fr" in response.content.decode()
        assert not Membership.objects.filter(organisation=invitation.organisation).exists()

    def test_anonymous_accept_goes_to_login(self, client):
        invitation = InvitationFactory()
        response = client.post(reverse("organisations:invitation", args=[invitation.token]))
        assert response.status_code == 302
        assert reverse("account_login") in response.url


class TestMembershipAndSwitch:
    def test_user_with_no_organisation_gets_an_explanation(self, client):
        client.force_login(UserFactory())
        response = client.get(reverse("organisations:detail"))
        assert response.status_code == 403
        assert "aucune organisation" in response.content.decode()

    def test_switch_between_two_organisations(self, client, member_of):
        first, second = OrganisationFactory(name="Mairie A"), OrganisationFactory(name="Mairie B")
        user = member_of(first)
        MembershipFactory(user=user, organisation=second, role=Role.MEMBER)
        client.force_login(user)
        assert client.get(reverse("dashboard")).context["current_organisation"] == first
        client.post(reverse("organisations:switch", args=[second.pk]))
        assert client.get(reverse("dashboard")).context["current_organisation"] == second

    def test_user_removed_mid_session_falls_back_with_a_message(self, client, member_of):
        first, second = OrganisationFactory(name="Mairie A"), OrganisationFactory(name="Mairie B")
        user = member_of(first)
        MembershipFactory(user=user, organisation=second)
        client.force_login(user)
        client.post(reverse("organisations:switch", args=[second.pk]))
        Membership.objects.filter(user=user, organisation=second).update(is_active=False)
        response = client.get(reverse("dashboard"))
        assert response.status_code == 200
        assert response.context["current_organisation"] == first
        assert "plus accès" in response.content.decode()

    def test_last_admin_cannot_be_removed(self, client, member_of):
        organisation = OrganisationFactory()
        admin = member_of(organisation, role=Role.ADMIN)
        client.force_login(admin)
        membership = Membership.objects.get(user=admin)
        response = client.post(reverse("organisations:remove_member", args=[membership.pk]), follow=True)
        assert "dernier administrateur" in response.content.decode()
        membership.refresh_from_db()
        assert membership.is_active

    def test_admin_removes_a_member_after_confirmation(self, client, member_of):
        organisation = OrganisationFactory()
        client.force_login(member_of(organisation, role=Role.ADMIN))
        member = MembershipFactory(organisation=organisation)
        url = reverse("organisations:remove_member", args=[member.pk])
        confirm = client.get(url)
        assert "Oui, retirer ce membre" in confirm.content.decode()
        member.refresh_from_db()
        assert member.is_active
        client.post(url)
        member.refresh_from_db()
        assert not member.is_active
        entry = AuditLog.objects.get(action="membership.removed")
        assert entry.before["is_active"] is True and entry.after["is_active"] is False

    def test_organisation_page_query_count_does_not_grow_with_members(
        self, client, member_of, django_assert_max_num_queries
    ):
        organisation = OrganisationFactory()
        client.force_login(member_of(organisation, role=Role.ADMIN))
        MembershipFactory.create_batch(3, organisation=organisation)
        with django_assert_max_num_queries(12) as few:
            client.get(reverse("organisations:detail"))
        MembershipFactory.create_batch(10, organisation=organisation)
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(reverse("organisations:detail"))

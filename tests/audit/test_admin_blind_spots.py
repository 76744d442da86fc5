"""What the operator's console does is in the audit log: inlines, the user admin, invitations,
bulk deletes, imports and exports. Secrets and password hashes never are."""

import csv
import io

import pytest
from django.contrib import admin as django_admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from passnum.audit.models import AuditLog
from passnum.organisations.enums import Role
from passnum.organisations.models import Invitation
from tests.factories import InvitationFactory, MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _inline_post(user, membership, role):
    prefix = "memberships"
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "01/01/2026",
        "date_joined_1": "10:00:00",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "1",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-id": str(membership.pk),
        f"{prefix}-0-user": str(user.pk),
        f"{prefix}-0-organisation": str(membership.organisation_id),
        f"{prefix}-0-role": role,
        f"{prefix}-0-is_active": "on",
    }


def test_a_role_changed_in_the_user_admin_inline_and_staff_rights_are_audited(client, operator_user):
    membership = MembershipFactory(role=Role.MEMBER)
    user = membership.user
    client.force_login(operator_user)
    data = _inline_post(user, membership, Role.ADMIN)
    data["is_staff"] = "on"
    response = client.post(reverse("admin:accounts_user_change", args=[user.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    role_entry = AuditLog.objects.get(action="admin.membership.changed")
    assert (role_entry.before["role"], role_entry.after["role"]) == ("member", "admin")
    user_entry = AuditLog.objects.get(action="admin.user.changed")
    assert (user_entry.before["is_staff"], user_entry.after["is_staff"]) == (False, True)
    assert "password" not in user_entry.after and "password" not in user_entry.before


def test_a_password_set_in_the_user_admin_is_audited(client, operator_user):
    user = UserFactory()
    client.force_login(operator_user)
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    new = "un-mot-de-passe-tout-neuf-42"
    response = client.post(url, {"password1": new, "password2": new, "usable_password": "true"})
    assert response.status_code == 302
    entry = AuditLog.objects.get(action="admin.user.password_changed")
    assert entry.target_id == str(user.pk) and entry.actor == operator_user


def test_an_invitation_created_in_the_admin_is_audited_and_its_secret_never_shown(client, operator_user):
    organisation = OrganisationFactory()
    client.force_login(operator_user)
    response = client.post(
        reverse("admin:organisations_invitation_add"),
        {
            "organisation": organisation.pk,
            "email": "nouvelle@exemple.fr",
            "role": Role.ADMIN,
            "expires_at_0": "31/12/2099",
            "expires_at_1": "10:00:00",
        },  # fmt: skip
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    invitation = Invitation.objects.get(email="nouvelle@exemple.fr")
    entry = AuditLog.objects.get(action="admin.invitation.added")
    assert "token" not in entry.after and invitation.token not in str(entry.after)
    page = client.get(reverse("admin:organisations_invitation_change", args=[invitation.pk]))
    assert page.status_code == 200 and invitation.token not in page.content.decode()


def test_a_bulk_delete_is_audited_object_by_object(client, operator_user):
    invitations = InvitationFactory.create_batch(2)
    client.force_login(operator_user)
    response = client.post(
        reverse("admin:organisations_invitation_changelist"),
        {"action": "delete_selected", "_selected_action": [i.pk for i in invitations], "post": "yes"},
    )
    assert response.status_code == 302
    deleted = AuditLog.objects.filter(action="admin.invitation.deleted")
    assert sorted(deleted.values_list("target_id", flat=True)) == sorted(str(i.pk) for i in invitations)


def test_an_export_of_organisations_is_audited(operator_user):
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    from passnum.organisations.models import Organisation

    OrganisationFactory.create_batch(2)
    model_admin = django_admin.site._registry[Organisation]
    request = RequestFactory().post("/admin/organisations/organisation/export/")
    request.user = operator_user
    csv_format = next(f for f in model_admin.get_export_formats() if f().get_title() == "csv")()
    data = model_admin.get_export_data(csv_format, request, Organisation.objects.all())
    assert data
    entry = AuditLog.objects.get(action="admin.organisation.exported")
    assert entry.after["rows"] == Organisation.objects.count() and entry.actor == operator_user


def csv_upload(name, lines):
    text = io.StringIO()
    csv.writer(text).writerows(lines)
    return SimpleUploadedFile(name, text.getvalue().encode(), content_type="text/csv")


def import_in_console(client, operator, model, upload):
    """Imports ``upload`` (CSV) as the operator does, preview then confirmation; returns the
    audit entry of the file."""
    from passnum.audit.models import AuditLog

    info = f"{model._meta.app_label}_{model._meta.model_name}"
    action = f"admin.{model._meta.model_name}.imported"
    formats = django_admin.site._registry[model].get_import_formats()
    csv_index = next(str(i) for i, f in enumerate(formats) if f().get_title() == "csv")
    client.force_login(operator)
    form = {"format": csv_index, "resource": "0", "import_file": upload}
    preview = client.post(reverse(f"admin:{info}_import"), form)
    assert preview.status_code == 200 and "confirm_form" in preview.context, preview.content.decode()[:2000]
    assert not AuditLog.objects.filter(action=action).exists()  # a preview imports nothing
    done = client.post(reverse(f"admin:{info}_process_import"), preview.context["confirm_form"].initial)
    assert done.status_code == 302
    entry = AuditLog.objects.get(action=action)
    assert entry.actor == operator and entry.created_at is not None
    return entry


def test_an_import_of_organisations_is_audited_with_its_file_and_counts(client, operator_user):
    from passnum.organisations.models import Organisation

    existing = OrganisationFactory(name="Ancien nom")
    header = ["id", "kind", "name", "siret", "address", "postcode", "city", "email", "is_active"]
    rows = [
        [str(existing.pk), "sponsor", "Nouveau nom", existing.siret, "", "33000", "Bordeaux", "", "1"],
        ["", "funder", "Département", OrganisationFactory.build().siret, "", "33000", "Bordeaux", "", "1"],
    ]
    entry = import_in_console(client, operator_user, Organisation, csv_upload("organisations.csv", [header, *rows]))
    assert entry.after["file"] == "organisations.csv"
    assert (entry.after["created"], entry.after["updated"]) == (1, 1)
    existing.refresh_from_db()
    assert existing.name == "Nouveau nom"

"""The sites' payee accounts moved from ``mediators`` to ``clearing.payees`` without losing any:
each became version 1 of its organisation's account, verification kept."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("mediators", "0003_redemption"), ("payees", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_site_accounts_are_copied_with_their_verification():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    Organisation = old_apps.get_model("organisations", "Organisation")
    Site = old_apps.get_model("mediators", "Site")
    OldAccount = old_apps.get_model("mediators", "PayeeAccount")
    verified = Site.objects.create(
        organisation=Organisation.objects.create(kind="site", name="Médiathèque", siret="21330318000011"),
        legal_form="commune",
        sector="public",
    )
    unverified = Site.objects.create(
        organisation=Organisation.objects.create(kind="site", name="Asso", siret="12345678000014"),
        legal_form="association",
        sector="private",
    )
    OldAccount.objects.create(
        site=verified,
        payee_kind="treasurer_regie",
        holder_name="Trésor public",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPPXXX",
        status="verified",
    )
    OldAccount.objects.create(
        site=unverified, payee_kind="self", holder_name="Asso", iban="FR7630006000011234567890189", bic="AGRIFRPPXXX"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from clearing.payees.models import PayeeAccount

    copied = {
        (a.organisation.name, a.version, a.is_current, a.payee_kind, a.holder_name, a.status)
        for a in PayeeAccount.objects.select_related("organisation")
    }
    assert copied == {
        ("Médiathèque", 1, True, "treasurer_regie", "Trésor public", "verified"),
        ("Asso", 1, True, "self", "Asso", "to_verify"),
    }

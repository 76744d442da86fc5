"""Moves the sites' payee accounts from ``mediators`` to ``clearing.payees``: each becomes
version 1 of its organisation's account, with its verification kept."""

from django.db import migrations


def copy_site_accounts(apps, schema_editor):
    OldAccount = apps.get_model("mediators", "PayeeAccount")
    PayeeAccount = apps.get_model("payees", "PayeeAccount")
    PayeeAccount.objects.bulk_create(
        PayeeAccount(
            organisation_id=old.site.organisation_id,
            version=1,
            is_current=True,
            payee_kind=old.payee_kind,
            holder_name=old.holder_name,
            iban=old.iban,
            bic=old.bic,
            status=old.status,
            verified_at=old.verified_at,
            verified_by_id=old.verified_by_id,
        )
        for old in OldAccount.objects.select_related("site").order_by("pk")
    )


def copy_back(apps, schema_editor):
    OldAccount = apps.get_model("mediators", "PayeeAccount")
    PayeeAccount = apps.get_model("payees", "PayeeAccount")
    Site = apps.get_model("mediators", "Site")
    for account in PayeeAccount.objects.filter(is_current=True):
        site = Site.objects.filter(organisation_id=account.organisation_id).first()
        if site is not None:
            OldAccount.objects.create(
                site=site,
                payee_kind=account.payee_kind,
                holder_name=account.holder_name,
                iban=account.iban,
                bic=account.bic,
                status=account.status,
                verified_at=account.verified_at,
                verified_by_id=account.verified_by_id,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("payees", "0001_initial"),
        ("mediators", "0003_redemption"),
    ]

    operations = [migrations.RunPython(copy_site_accounts, copy_back)]

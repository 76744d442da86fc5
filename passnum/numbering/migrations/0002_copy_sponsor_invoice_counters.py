"""Sponsor invoices now take their number from the numbering module: each year's counter moves
to the FAC series, so the next invoice of the year follows the last one issued."""

from django.db import migrations


def copy_invoice_counters(apps, schema_editor):
    InvoiceCounter = apps.get_model("sponsors", "InvoiceCounter")
    DocumentCounter = apps.get_model("numbering", "DocumentCounter")
    for counter in InvoiceCounter.objects.all():
        DocumentCounter.objects.update_or_create(
            series="FAC", year=counter.year, defaults={"last_number": counter.last_number}
        )


def copy_back(apps, schema_editor):
    InvoiceCounter = apps.get_model("sponsors", "InvoiceCounter")
    DocumentCounter = apps.get_model("numbering", "DocumentCounter")
    for counter in DocumentCounter.objects.filter(series="FAC"):
        InvoiceCounter.objects.update_or_create(year=counter.year, defaults={"last_number": counter.last_number})


class Migration(migrations.Migration):
    dependencies = [
        ("numbering", "0001_initial"),
        ("sponsors", "0002_programme_requires_beneficiary_name"),
    ]

    operations = [migrations.RunPython(copy_invoice_counters, copy_back)]

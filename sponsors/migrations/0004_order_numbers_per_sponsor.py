"""Orders get a human number per sponsor and year (CMD-2026-0001) from the numbering module.

Existing orders are numbered in the order they were created, per sponsor and year (the year of
their creation, in Paris time), and each sponsor's counter is set to its last number so that the
next order follows it. The next migration makes the number and the sponsor required, and the
number unique per sponsor (in its own transaction: PostgreSQL does not alter a table whose rows
this one just updated under a deferred foreign key)."""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone


def number_existing_orders(apps, schema_editor):
    Order = apps.get_model("sponsors", "Order")
    DocumentCounter = apps.get_model("numbering", "DocumentCounter")
    last = {}
    orders = Order.objects.select_related("programme").order_by("created_at", "pk")
    for order in orders.iterator():
        sponsor_id = order.programme.sponsor_id
        year = timezone.localtime(order.created_at).year
        last[(sponsor_id, year)] = sequence = last.get((sponsor_id, year), 0) + 1
        # The format of passnum.numbering.services.format_number for the CMD series, frozen here.
        Order.objects.filter(pk=order.pk).update(sponsor_id=sponsor_id, number=f"CMD-{year}-{sequence:04d}")
    for (sponsor_id, year), sequence in last.items():
        DocumentCounter.objects.update_or_create(
            series="CMD", year=year, organisation_id=sponsor_id, defaults={"last_number": sequence}
        )


def forget_order_counters(apps, schema_editor):
    apps.get_model("numbering", "DocumentCounter").objects.filter(series="CMD").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0003_api_token_expiry"),
        ("numbering", "0003_counters_per_organisation"),
        ("sponsors", "0003_remove_invoicecounter"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="number",
            field=models.CharField(max_length=20, null=True, verbose_name="numéro"),
        ),
        migrations.AddField(
            model_name="order",
            name="sponsor",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="organisations.organisation",
                verbose_name="commanditaire",
            ),
        ),
        migrations.RunPython(number_existing_orders, forget_order_counters),
    ]

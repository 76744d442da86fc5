"""Every order has its number and its sponsor (numbered by the previous migration): both become
required, and the number unique per sponsor."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sponsors", "0004_order_numbers_per_sponsor"),
    ]

    operations = [
        migrations.AlterField(
            model_name="order",
            name="number",
            field=models.CharField(max_length=20, verbose_name="numéro"),
        ),
        migrations.AlterField(
            model_name="order",
            name="sponsor",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="organisations.organisation",
                verbose_name="commanditaire",
            ),
        ),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.UniqueConstraint(fields=("sponsor", "number"), name="order_number_unique_per_sponsor"),
        ),
    ]

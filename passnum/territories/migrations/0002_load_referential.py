"""Loads the installed referential of communes and departments (version 1), so that every
database — production, the embedded default, the tests — knows the communes once migrated."""

from django.db import migrations


def load(apps, schema_editor):
    from passnum.territories.services import write_referential
    from passnum.territories.source import read_referential

    write_referential(
        read_referential(),
        department_model=apps.get_model("territories", "Department"),
        commune_model=apps.get_model("territories", "Commune"),
        version_model=apps.get_model("territories", "TerritoryVersion"),
        note="Chargement initial du référentiel des communes.",
    )


class Migration(migrations.Migration):
    dependencies = [("territories", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

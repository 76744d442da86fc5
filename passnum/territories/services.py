"""Loading the referential of communes and departments: a whole, versioned import."""

from django.db import IntegrityError, transaction

from passnum.audit.services import record
from passnum.territories import selectors
from passnum.territories.models import Commune, Department, TerritoryVersion
from passnum.territories.source import Referential, read_referential


def write_referential(referential: Referential, *, department_model, commune_model, version_model, note=""):
    """Replaces the departments and communes by ``referential`` and writes the next version.

    Nothing refers to these rows by key (places and programmes keep codes), so the import is a
    replacement. Also called by the migration that loads the first version, with its models.
    """
    latest = version_model.objects.select_for_update().order_by("-number").first()
    if latest is not None and latest.sha256 == referential.sha256 and commune_model.objects.exists():
        return latest, False
    department_model.objects.all().delete()
    commune_model.objects.all().delete()
    department_model.objects.bulk_create(
        department_model(code=code, name=name, zone=zone) for code, name, zone in referential.departments
    )
    commune_model.objects.bulk_create(
        (
            commune_model(code=code, name=name, department=department, postcodes=postcodes, folded_name=folded)
            for code, name, department, postcodes, folded in referential.communes
        ),
        batch_size=2000,
    )
    version = version_model.objects.create(
        number=latest.number + 1 if latest is not None else 1,
        source_name=referential.source_name,
        sha256=referential.sha256,
        department_count=len(referential.departments),
        commune_count=len(referential.communes),
        note=note,
    )
    return version, True


def import_referential(*, referential: Referential | None = None, note: str = "") -> TerritoryVersion:
    """Imports the referential (by default the installed package); the same data as the latest
    version changes nothing and returns that version."""
    referential = referential or read_referential()
    with transaction.atomic():
        version, changed = write_referential(
            referential,
            department_model=Department,
            commune_model=Commune,
            version_model=TerritoryVersion,
            note=note,
        )
        if changed:
            selectors.forget_department_names()
            record(
                "territories.referential_imported",
                target=version,
                after={
                    "number": version.number,
                    "source_name": version.source_name,
                    "sha256": version.sha256,
                    "department_count": version.department_count,
                    "commune_count": version.commune_count,
                },
            )
    return version


def ensure_territories_loaded() -> TerritoryVersion:
    """Loads the installed referential if the tables are empty (idempotent, one query when loaded)."""
    if Commune.objects.exists():
        return TerritoryVersion.objects.order_by("-number").first()
    try:
        return import_referential(note="Chargement initial du référentiel des communes.")
    except IntegrityError:
        # Another process loaded it at the same moment.
        return TerritoryVersion.objects.order_by("-number").first()

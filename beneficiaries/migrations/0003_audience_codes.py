from django.db import migrations, models

from passnum.audiences import codes_for, label

BATCH = 2000


def labels_to_codes(apps, schema_editor):
    """Each beneficiary's audiences, stored as labels until now, become the codes of its programme
    (migrated just before): a label the programme no longer targets becomes an audience of the
    programme's own all the same, so that its hand-overs keep being counted under it."""
    Beneficiary = apps.get_model("beneficiaries", "Beneficiary")
    ProgrammeAudience = apps.get_model("sponsors", "ProgrammeAudience")
    own_by_programme = {}
    changed = []
    for beneficiary in Beneficiary.objects.exclude(audiences=[]).only("pk", "programme_id", "audiences").iterator():
        if beneficiary.programme_id not in own_by_programme:
            own = dict(
                ProgrammeAudience.objects.filter(programme_id=beneficiary.programme_id).values_list("code", "label")
            )
            own_by_programme[beneficiary.programme_id] = (own, set(own))
        own, _known = own_by_programme[beneficiary.programme_id]
        codes = codes_for(beneficiary.audiences or [], own=own)
        if codes != beneficiary.audiences:
            beneficiary.audiences = codes
            changed.append(beneficiary)
        if len(changed) >= BATCH:
            Beneficiary.objects.bulk_update(changed, ["audiences"])
            changed = []
    Beneficiary.objects.bulk_update(changed, ["audiences"])
    ProgrammeAudience.objects.bulk_create(
        [
            ProgrammeAudience(programme_id=programme_id, code=code, label=own[code])
            for programme_id, (own, known) in own_by_programme.items()
            for code in own
            if code not in known
        ]
    )


def codes_to_labels(apps, schema_editor):
    Beneficiary = apps.get_model("beneficiaries", "Beneficiary")
    ProgrammeAudience = apps.get_model("sponsors", "ProgrammeAudience")
    own = {}
    for programme_id, code, text in ProgrammeAudience.objects.values_list("programme_id", "code", "label"):
        own.setdefault(programme_id, {})[code] = text
    changed = []
    for beneficiary in Beneficiary.objects.exclude(audiences=[]).only("pk", "programme_id", "audiences").iterator():
        beneficiary.audiences = [label(code, own.get(beneficiary.programme_id)) for code in beneficiary.audiences]
        changed.append(beneficiary)
    Beneficiary.objects.bulk_update(changed, ["audiences"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("beneficiaries", "0002_stored_answers_moved_to_passnum_idempotency"),
        ("sponsors", "0006_audience_codes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="beneficiary",
            name="audiences",
            field=models.JSONField(blank=True, default=list, verbose_name="publics (codes)"),
        ),
        migrations.RunPython(labels_to_codes, codes_to_labels),
    ]

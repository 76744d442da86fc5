"""The stored answers of the two former tables (redemptions' ``RedemptionKey``, distributions'
``IdempotencyRecord``) copied into the one table; the old tables are dropped by their apps'
next migrations, which depend on this one."""

import json

from django.db import migrations

BATCH = 2000


def render(body):
    # As passnum.idempotency.services.render (a migration does not import app code).
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)


def copy(apps, schema_editor):
    StoredAnswer = apps.get_model("idempotency", "StoredAnswer")
    RedemptionKey = apps.get_model("mediators", "RedemptionKey")
    IdempotencyRecord = apps.get_model("beneficiaries", "IdempotencyRecord")
    batch = []

    def add(answer):
        batch.append(answer)
        if len(batch) >= BATCH:
            StoredAnswer.objects.bulk_create(batch)
            batch.clear()

    for record in RedemptionKey.objects.order_by("pk").iterator(chunk_size=BATCH):
        add(
            StoredAnswer(
                organisation_id=record.organisation_id, scope="redemptions", key=record.key,
                request_hash=record.request_hash, status_code=record.status_code, body=render(record.response_body),
                subject=str(record.redemption_id or ""), created_at=record.created_at,
            )
        )  # fmt: skip
    for record in IdempotencyRecord.objects.order_by("pk").iterator(chunk_size=BATCH):
        add(
            StoredAnswer(
                organisation_id=record.organisation_id, scope=record.endpoint, key=record.key,
                request_hash=record.request_hash, status_code=record.status_code, body=render(record.response_body),
                subject=str(record.hand_over_id or ""), created_at=record.created_at,
            )
        )  # fmt: skip
    if batch:
        StoredAnswer.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("idempotency", "0001_initial"),
        ("mediators", "0005_refused_scan_reason_from_the_refusals"),
        ("beneficiaries", "0001_initial"),
    ]

    operations = [migrations.RunPython(copy, migrations.RunPython.noop)]

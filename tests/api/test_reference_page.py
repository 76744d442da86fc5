"""The API reference page (/api/docs/): every operation of the schema, described in French."""

import re

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db

# Words that only an English sentence has: a developer's docstring leaking into the reference.
ENGLISH_WORDS = re.compile(r"\b(the|one|and|with|from|for|is|are|read only)\b")


def test_the_reference_lists_every_operation_with_its_answers(client):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    response = client.get(reverse("api-docs"))

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert '<html lang="fr">' in body
    operations = [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) >= 15
    for method, path, operation in operations:
        assert f"<code>{method} {path}</code>" in body, f"{method} {path} absent de la référence"
        for status in operation["responses"]:
            assert re.search(
                rf'id="{re.escape(operation["operationId"])}-answers".*?<td>{status}</td>', body, flags=re.DOTALL
            ), f"{method} {path} : la réponse {status} n'est pas décrite"
    # The body fields of a redemption, and the schema for tools, one link away.
    assert "<code>point_of_presence</code>" in body
    assert f'href="{reverse("api-schema")}"' in body


def test_every_text_of_the_schema_is_french():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    english = [
        f"{method.upper()} {path} : {operation['description'][:80]}"
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and ENGLISH_WORDS.search(operation.get("description", ""))
    ]
    assert not english, "Descriptions en anglais dans le schéma :\n" + "\n".join(english)

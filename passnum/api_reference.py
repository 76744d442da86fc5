"""The API reference page (`/api/docs/`): the OpenAPI schema rendered as a plain, accessible page.

Swagger UI builds its page in the browser and fails WCAG (contrast, no ``lang``, buttons nested in
buttons), so the reference is rendered on the server from the same schema drf-spectacular serves at
``/api/schema/``: headings per tag, a table of parameters, of body fields and of answers per
operation. One source, two readings: the schema file for tools, this page for people.
"""

from functools import lru_cache

from django.shortcuts import render
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema

# The page's sections, by the schema's tags (the path's first segment after /api/v1/).
SECTION_TITLES = {
    "auth": "Jetons d'appareil",
    "booklets": "Carnets (guichets)",
    "distributions": "Remises de carnets (guichets)",
    "me": "Compte",
    "organisation": "Organisation et membres",
    "passes": "Pass",
    "redemptions": "Encaissements (structures de médiation)",
    "referential": "Référentiel #APTIC (public)",
    "sites": "Lieux de médiation (données ouvertes)",
    "sites.csv": "Lieux de médiation (données ouvertes)",
    "statements": "Relevés de remboursement (structures de médiation)",
}

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
PARAMETER_PLACES = {"path": "chemin", "query": "requête", "header": "en-tête", "cookie": "cookie"}


class FrenchAutoSchema(AutoSchema):
    """The schema's texts are the French ones given to ``extend_schema``, never a view's docstring.

    Docstrings are written for the project's developers, in English: without this, an operation
    without ``description=`` would show an English sentence in a French reference.
    """

    def get_description(self) -> str:
        return ""


@lru_cache(maxsize=1)
def api_reference() -> dict:
    """The operations of the public schema grouped by tag, resolved for display (built once per process)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema.get("components", {}).get("schemas", {})
    sections: dict[str, list[dict]] = {}
    for path, item in schema.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            tag = SECTION_TITLES.get((operation.get("tags") or [""])[0], "Autres opérations")
            sections.setdefault(tag, []).append(
                _operation(method=method, path=path, operation=operation, components=components)
            )
    return {
        "title": schema["info"]["title"],
        "description": schema["info"].get("description", ""),
        "version": schema["info"]["version"],
        "sections": [
            {"tag": tag, "anchor": f"section-{number}", "operations": operations}
            for number, (tag, operations) in enumerate(sorted(sections.items()), start=1)
        ],
    }


def _operation(*, method: str, path: str, operation: dict, components: dict) -> dict:
    body = operation.get("requestBody", {}).get("content", {})
    body_type, body_schema = next(iter(body.items()), (None, {}))
    responses = []
    for status, answer in operation.get("responses", {}).items():
        content = answer.get("content", {})
        content_type, answer_schema = next(iter(content.items()), (None, {}))
        responses.append(
            {
                "status": status,
                "description": answer.get("description", ""),
                "content_type": content_type,
                "fields": _fields(schema=answer_schema.get("schema", {}), components=components),
            }
        )
    return {
        "method": method.upper(),
        "path": path,
        "anchor": operation.get("operationId", f"{method}-{path}"),
        "summary": operation.get("summary", ""),
        "description": operation.get("description", ""),
        "parameters": [
            {
                "name": parameter["name"],
                "where": PARAMETER_PLACES.get(parameter["in"], parameter["in"]),
                "required": parameter.get("required", False),
                "type": _type(schema=parameter.get("schema", {})),
                "description": parameter.get("description", ""),
            }
            for parameter in operation.get("parameters", [])
        ],
        "body_type": body_type,
        "body_fields": _fields(schema=body_schema.get("schema", {}), components=components),
        "secured": bool(operation.get("security")),
        "responses": responses,
    }


def _resolve(*, schema: dict, components: dict) -> dict:
    if "$ref" in schema:
        return components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def _fields(*, schema: dict, components: dict) -> list[dict]:
    """The first level of an object's fields (a list's items for a list), with type and requirement."""
    schema = _resolve(schema=schema, components=components)
    if schema.get("type") == "array":
        schema = _resolve(schema=schema.get("items", {}), components=components)
    for key in ("results",):  # a paginated list: the page's items
        if key in schema.get("properties", {}):
            schema = _resolve(schema=schema["properties"][key].get("items", {}), components=components)
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "type": _type(schema=_resolve(schema=field, components=components), ref=field),
            "required": name in required,
            "read_only": field.get("readOnly", False),
            "description": field.get("description", "")
            or _resolve(schema=field, components=components).get("description", ""),
        }
        for name, field in schema.get("properties", {}).items()
    ]


def _type(*, schema: dict, ref: dict | None = None) -> str:
    if "enum" in schema:
        return "un de : " + ", ".join(str(value) for value in schema["enum"] if value not in ("", None))
    if ref and "allOf" in ref:
        return "objet"
    kind = schema.get("type", "objet")
    if kind == "array":
        return "liste"
    return {"string": "texte", "integer": "entier", "boolean": "booléen", "number": "nombre", "object": "objet"}.get(
        kind, kind
    ) + (f" ({schema['format']})" if schema.get("format") else "")


def api_docs(request):
    return render(request, "api/reference.html", {"reference": api_reference()})

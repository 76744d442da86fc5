"""Helpers of the cross-organisation walk: every URL pattern, and a factory for every model."""

import importlib
import pkgutil
from pathlib import Path

import factory
from django.urls import URLPattern, URLResolver, get_resolver

import tests

# Views of libraries: the admin is the operator's console (tested on its own), allauth's
# account pages belong to the logged-in user only, the API schema is public.
THIRD_PARTY_MODULES = ("django.", "allauth.", "drf_spectacular", "rest_framework.", "import_export.")


def iter_url_patterns(patterns=None, namespace=""):
    """Yields ``(qualified_name, pattern)`` for every URL pattern of the project."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = (
                f"{namespace}:{entry.namespace}" if namespace and entry.namespace else (entry.namespace or namespace)
            )
            yield from iter_url_patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name, entry


def is_third_party(pattern):
    module = getattr(pattern.callback, "__module__", "") or ""
    view_class = view_class_of(pattern)
    if view_class is not None:
        module = view_class.__module__
    return module.startswith(THIRD_PARTY_MODULES)


def url_parameters(pattern):
    converters = getattr(pattern.pattern, "converters", None)
    if converters:
        return list(converters)
    regex = getattr(pattern.pattern, "regex", None)
    return list(regex.groupindex) if regex is not None else []


def view_class_of(pattern):
    callback = pattern.callback
    return getattr(callback, "view_class", None) or getattr(callback, "cls", None)


def route_tenancy(pattern):
    """What a route with parameters declares: ``("tenant", model, lookups)``, ``("public", reason)``
    or ``None``. HTML routes declare it with ``tenant_path``/``public_path``; API views scoped by
    ``TenantScopedMixin`` declare it by their queryset, public API views by ``tenant_public``."""
    if hasattr(pattern, "tenant_model"):
        return "tenant", pattern.tenant_model, pattern.tenant_lookups
    if hasattr(pattern, "tenant_public"):
        return "public", pattern.tenant_public
    view_class = view_class_of(pattern)
    if view_class is None:
        return None
    from passnum.api import TenantScopedMixin

    if issubclass(view_class, TenantScopedMixin):
        lookup_field = getattr(view_class, "lookup_field", "pk")
        url_kwarg = getattr(view_class, "lookup_url_kwarg", None) or lookup_field
        return "tenant", view_class.queryset.model, {url_kwarg: lookup_field}
    if getattr(view_class, "tenant_public", None):
        return "public", view_class.tenant_public
    return None


def _import_factory_modules():
    root = Path(tests.__file__).parent
    for module_info in pkgutil.walk_packages([str(root)], prefix="tests."):
        if module_info.name.rsplit(".", 1)[-1] == "factories":
            importlib.import_module(module_info.name)


def _all_subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _all_subclasses(subclass)


def factory_for(model):
    """The factory of ``model`` found in tests/**/factories.py (the first one declared)."""
    _import_factory_modules()
    for candidate in _all_subclasses(factory.django.DjangoModelFactory):
        if candidate._meta.model is model:
            return candidate
    raise LookupError(f"Aucune factory pour {model.__name__} : ajoutez-la dans tests/<app>/factories.py.")


def owning_organisation(obj):
    """Follows ``tenant_field`` from an object to the organisation that owns it."""
    path = type(obj).tenant_field
    if path == "pk":
        return obj
    value = obj
    for attribute in path.split("__"):
        value = getattr(value, attribute)
    return value

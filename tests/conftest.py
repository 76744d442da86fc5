import pytest
from django.conf import settings
from django.core.cache import cache

from tests.factories import MembershipFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    """One suite, two databases: the tests marked ``embedded`` run on the embedded default
    (SQLite, no DATABASE_URL), every other test on PostgreSQL. ``make test`` runs both."""
    embedded = settings.EMBEDDED_DEFAULT
    keep, drop = [], []
    for item in items:
        (keep if (item.get_closest_marker("embedded") is not None) == embedded else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters live in Redis: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member_of():
    """``member_of(organisation, role="admin")`` → a user of that organisation, with the second
    factor set up when the role requires it."""

    def make(organisation, role="admin", **user_fields):
        user = UserFactory(with_mfa=True, **user_fields)
        MembershipFactory(user=user, organisation=organisation, role=role)
        return user

    return make


@pytest.fixture
def operator_user(db):
    from tests.factories import OrganisationFactory

    user = UserFactory(staff=True, with_mfa=True)
    MembershipFactory(user=user, organisation=OrganisationFactory(operator=True), role="admin")
    return user

import pytest
from django.core.cache import cache

from tests.factories import MembershipFactory, UserFactory


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

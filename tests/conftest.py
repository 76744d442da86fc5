import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from pytest_django.plugin import blocking_manager_key

from passnum.territories.services import ensure_territories_loaded
from tests.factories import MembershipFactory, UserFactory

# Property tests prove what holds, never how fast it runs: on a loaded machine a slow example is
# not a failure (no per-example deadline; speed is measured by the benchmarks in bench/).
hypothesis_settings.register_profile("passnum", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("passnum")


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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The referential of communes is written by a migration; a database kept from an earlier run
    (``--reuse-db``) that a test emptied gets it back."""
    with django_db_blocker.unblock():
        ensure_territories_loaded()
    yield
    # The test database is dropped next, which PostgreSQL refuses while another session uses it: a
    # session left by a thread of a concurrency test or by a killed process ends here, not the run.
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A test that empties the tables (threads, a live server) takes the referential of communes
    with them: it is loaded again once the test is torn down, outside any test's transaction, so
    that the next tests find it (reloading it inside each test would cost seconds apiece)."""
    result = yield
    marker = item.get_closest_marker("django_db")
    emptied = (marker is not None and marker.kwargs.get("transaction")) or {
        "transactional_db",
        "live_server",
    } & set(getattr(item, "fixturenames", ()))
    if emptied and nextitem is not None:
        with item.config.stash[blocking_manager_key].unblock():
            ensure_territories_loaded()
    return result


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

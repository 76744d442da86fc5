"""The operator's console for mediation sites: Django discovers ``mediators.admin``, which
registers the admin of each sub-package (qualification, places, redemption)."""

from mediators.places import admin as places_admin  # noqa: F401
from mediators.qualification import admin as qualification_admin  # noqa: F401
from mediators.redemption import admin as redemption_admin  # noqa: F401

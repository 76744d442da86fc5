"""The models of the mediators app, defined by capability in its sub-packages:

- ``mediators.qualification.models``: the site, its application, status history and subscription;
- ``mediators.places.models``: points de présence, catalogue and workshops;
- ``mediators.redemption.models``: redemptions, redeemed passes, refused scans, idempotency keys.

Django finds an app's models through this module: it imports every sub-package's models (they
all belong to the ``mediators`` app label, so the migrations did not change).
"""

from mediators.places.models import (  # noqa: F401
    CatalogueFormat,
    CatalogueItem,
    PointOfPresence,
    PointOfPresenceQuerySet,
    Workshop,
    WorkshopLevel,
    WorkshopQuerySet,
)
from mediators.qualification.models import (  # noqa: F401
    Answer,
    Audience,
    Choice,
    DocumentKind,
    LegalForm,
    QualificationStatus,
    Question,
    QuestionCategory,
    SchemeSettings,
    Sector,
    Site,
    SiteAudience,
    SiteOwnedQuerySet,
    SiteQuerySet,
    SiteStatusChange,
    Subscription,
    SubscriptionStatus,
    SupportingDocument,
    document_upload_to,
)
from mediators.redemption.models import (  # noqa: F401
    RedeemedPass,
    Redemption,
    RedemptionDayTotal,
    RedemptionPlaceMonthTotal,
    RedemptionRollup,
    RedemptionServiceMonthTotal,
    RefusedScan,
)

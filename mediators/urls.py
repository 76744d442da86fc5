"""The mediators app's pages, in the ``mediators`` namespace: each sub-package lists its own."""

from mediators.places.urls import urlpatterns as places_urls
from mediators.qualification.urls import urlpatterns as qualification_urls
from mediators.redemption.urls import urlpatterns as redemption_urls

app_name = "mediators"

urlpatterns = qualification_urls + places_urls + redemption_urls

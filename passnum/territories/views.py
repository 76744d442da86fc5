"""``GET /communes/chercher?q=…``: communes by name (accents aside), code or postcode, in JSON,
for the forms that take a commune (their datalist is filled as the person types)."""

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from passnum.territories import selectors


@require_GET
def search_communes(request):
    communes = selectors.search_communes(query=request.GET.get("q", "")[:100])
    return JsonResponse(
        {
            "communes": [
                {
                    "code": c.code,
                    "nom": c.name,
                    "departement": c.department,
                    "codes_postaux": c.postcodes.split(),
                    "libelle": f"{c.name} ({c.department})",
                }
                for c in communes
            ]
        }
    )

"""« Vérifier mon pass » (/verifier/): public, no personal data, rate-limited per IP."""

from django.shortcuts import render

from beneficiaries.selectors import may_look_up_serials, pass_or_booklet_status
from passnum.ratelimit import VERIFY_PER_MINUTE, per_ip_limit_reached

FINDER_URL = "/trouver/"


def verify(request):
    text = request.GET.get("code", "")
    context = {"code": text[:300], "finder_url": FINDER_URL}
    if text.strip():
        if per_ip_limit_reached(request, "verifier", VERIFY_PER_MINUTE):
            return render(request, "429.html", status=429)
        serials_allowed = may_look_up_serials(user=request.user, organisation=getattr(request, "organisation", None))
        context["result"] = pass_or_booklet_status(text, serials_allowed=serials_allowed)
    return render(request, "beneficiaries/verify.html", context)

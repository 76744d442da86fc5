"""« Vérifier mon pass » (/verifier/): public, no personal data, rate-limited per IP."""

from django.core.cache import cache
from django.shortcuts import render
from django.utils import timezone

from passnum.audit.services import client_ip
from passnum.passes import codes
from passnum.passes import selectors as pass_selectors
from passnum.passes.models import PassState

RATE_LIMIT = 20  # lookups per minute and per IP
FINDER_URL = "/trouver/"

STATE_TEXT = {
    PassState.CREATED: "Ce pass n'est pas encore activé : il le sera quand un prescripteur vous remettra le carnet.",
    PassState.ACTIVE: "Ce pass est utilisable.",
    PassState.REDEEMED: "Ce pass a déjà été utilisé.",
    PassState.SETTLED: "Ce pass a déjà été utilisé.",
    PassState.EXPIRED: "Ce pass a expiré : sa date de validité est passée.",
    PassState.CANCELLED: "Ce pass a été annulé (carnet déclaré perdu ou volé).",
}


def rate_limited(request):
    key = f"verifier:{client_ip(request)}:{int(timezone.now().timestamp() // 60)}"
    cache.add(key, 0, timeout=90)
    try:
        count = cache.incr(key)
    except ValueError:
        count = 1
    return count > RATE_LIMIT


def lookup(text):
    """What to show for a typed pass code or booklet serial: a dict for the template."""
    text = (text or "").strip()[:300]
    serial = pass_selectors.normalise_serial(text)
    if pass_selectors.SERIAL.match(serial):
        booklet = pass_selectors.booklet_by_serial(serial)
        if booklet is None:
            return {"error": "Aucun carnet ne porte ce numéro : vérifiez le numéro imprimé sur le carnet."}
        summary = pass_selectors.booklet_summary(booklet)
        return {"kind": "booklet", "serial": booklet.serial, "programme": booklet.programme.name, **summary}
    parsed = codes.parse(text)
    if not parsed.ok:
        if parsed.error == codes.MISTYPED:
            return {"error": codes.ERROR_MESSAGES[codes.MISTYPED]}
        return {
            "error": "Ce texte n'est ni un code de pass (13 caractères, par exemple ABCD-EFGH-JKMN-P) "
            "ni un numéro de carnet (par exemple GIR000123)."
        }
    item = pass_selectors.pass_by_code(parsed.code)
    if item is None:
        return {"error": "Ce code est bien formé mais ne correspond à aucun pass : vérifiez-le sur votre carnet."}
    summary = pass_selectors.booklet_summary(item.booklet)
    return {
        "kind": "pass",
        "code": codes.grouped(item.code),
        "state_text": STATE_TEXT.get(item.state, ""),
        "usable_pass": item.state == PassState.ACTIVE,
        "face_value_cents": item.face_value_cents,
        "programme": item.programme.name,
        "pass_valid_until": item.valid_until,
        **summary,
    }


def verify(request):
    text = request.GET.get("code", "")
    context = {"code": text[:300], "finder_url": FINDER_URL}
    if text.strip():
        if rate_limited(request):
            return render(request, "429.html", status=429)
        context["result"] = lookup(text)
    return render(request, "beneficiaries/verify.html", context)

def mfa_grace(request):
    """The end of the grace period to set up a second factor, for the banner of base.html."""
    return {"mfa_grace_until": getattr(request, "mfa_grace_until", None)}

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from passnum.accounts.mfa import has_mfa


@login_required
def mfa_required(request):
    """Why an administrator must now use a second factor, and how to set it up."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    return render(request, "accounts/mfa_required.html", {"next_url": next_url, "has_mfa": has_mfa(request.user)})

from allauth.account.adapter import DefaultAccountAdapter

from passnum.client_ip import client_ip


class PassnumAccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request):
        # One reading of the client IP for allauth's per-IP limits and for the rest of Passnum.
        # A request without a readable address (some test servers) shares one bucket.
        return client_ip(request) or "unknown"

    def authentication_failed(self, request, **credentials):
        from passnum.audit.services import record_failed_login

        record_failed_login(
            request=request,
            email=credentials.get("email", ""),
            channel=getattr(request, "passnum_login_channel", "web"),
        )

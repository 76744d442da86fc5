from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site

from passnum import mail
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

    def send_mail(self, template_prefix, email, context):
        # allauth writes the message; Passnum's mail queue sends it (passnum/mail.py): a stopped
        # SMTP server never fails a sign-up or a password reset, the mail is retried.
        request = allauth_context.request
        context = {"request": request, "email": email, "current_site": get_current_site(request), **context}
        message = self.render_mail(template_prefix, email, context)
        body, html = message.body, ""
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                html = content
        if message.content_subtype == "html":
            body, html = "", message.body
        mail.queue(subject=message.subject, body=body, to=message.to, html=html, from_email=message.from_email)

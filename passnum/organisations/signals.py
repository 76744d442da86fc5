"""Tokens die with what made them legitimate, whatever path changed it (allauth's pages, the
admin, a shell): a new password, a membership ended or deleted."""

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from passnum.organisations.models import Membership


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="tokens_die_with_the_password")
def _password_changed(sender, instance, created, **kwargs):
    # ``set_password`` leaves the raw password in ``_password`` until the save is over.
    if not created and getattr(instance, "_password", None) is not None:
        from passnum.organisations.services import revoke_tokens_of

        revoke_tokens_of(user=instance, reason="password_changed")


@receiver(post_save, sender=Membership, dispatch_uid="tokens_die_with_the_membership")
def _membership_saved(sender, instance, **kwargs):
    if not instance.is_active:
        from passnum.organisations.services import revoke_tokens_of

        revoke_tokens_of(user=instance.user, organisation=instance.organisation, reason="membership_removed")


@receiver(post_delete, sender=Membership, dispatch_uid="tokens_die_with_the_deleted_membership")
def _membership_deleted(sender, instance, **kwargs):
    from passnum.organisations.services import revoke_tokens_of

    revoke_tokens_of(user=instance.user_id, organisation=instance.organisation_id, reason="membership_removed")

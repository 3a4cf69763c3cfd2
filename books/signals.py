"""The catalogue's signals: ``catalogue_imported``, which it sends for the layers above it to react to, and its own
reactions to changes made outside its services (a reader's new password revokes their API token)."""
from django.contrib.auth import get_user_model
from django.db.models.signals import pre_save
from django.dispatch import Signal, receiver

from books.services import reader_token_revoke

catalogue_imported = Signal()
"""Sent by every import (a command, the bundled sample) once its books are written, in its transaction, with
``report`` (its ``ImportReport``). A receiver may add a line for the operator to ``report.afterwards``. The catalogue
knows nothing of what reacts: the embeddings give new books a vector this way (``recommender.apps``)."""


@receiver(pre_save, sender=get_user_model(), dispatch_uid="books.password_change_revokes_token")
def password_change_revokes_token(sender, instance, update_fields=None, **kwargs):
    """Wherever a password is changed (reset by mail, the password page, the admin, ``changepassword``), the old
    API token stops working too, as Django's sessions do."""
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is not None and stored != instance.password:
        reader_token_revoke(user=instance)

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person with a login. Their places in campaign trees are `referrals.Member` rows."""

    display_name = models.CharField(max_length=80, blank=True)

    def public_name(self) -> str:
        return self.display_name or self.username

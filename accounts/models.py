import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models

from referrals.fields import PlainCharField


class User(AbstractUser):
    """A person with a login. Their places in campaign trees are `referrals.Member` rows."""

    display_name = PlainCharField(max_length=80, blank=True)
    # db_default: bulk loaders (generate_campaign's COPY) may leave these out.
    blog_url = models.URLField(blank=True, db_default="", default="")
    use_gravatar = models.BooleanField(
        default=False, db_default=False, help_text="Show my Gravatar instead of my initials."
    )
    public_profile = models.BooleanField(
        default=False, db_default=False, help_text="Show my profile page to everyone."
    )
    show_inviter = models.BooleanField(
        default=True,
        db_default=True,
        help_text="Show who invited me on my public profile (moderators always see it).",
    )
    email_on_join = models.BooleanField(
        default=True, db_default=True, help_text="E-mail me when someone I invited joins."
    )
    email_on_activation = models.BooleanField(
        default=True, db_default=True, help_text="E-mail me when someone I invited becomes active."
    )

    def public_name(self) -> str:
        return self.display_name or self.username

    def initials(self) -> str:
        words = self.public_name().split()
        return "".join(w[0] for w in words[:2]).upper() or "?"

    def gravatar_url(self, size: int = 96) -> str:
        digest = hashlib.sha256(self.email.strip().lower().encode()).hexdigest()
        return f"https://www.gravatar.com/avatar/{digest}?s={size}&d=identicon"

"""3PL Warehouse Manager credentials of the sandbox: one REST credential per customer and facility, and its tokens.

An account is keyed by `client_id`; its secret and tokens are stored only as digests
(`..credentials.hash_secret`). Tokens expire (`expires_at`), as the real ones do.
"""

from django.db import models

from ..credentials import hash_secret, secret_matches


class WmsAccount(models.Model):
    """A 3PL Warehouse Manager REST credential: one customer in one facility."""

    client_id = models.CharField(max_length=200, unique=True)
    secret_digest = models.CharField(max_length=64)
    user_login = models.CharField(max_length=200, blank=True)
    # Which token-body field the credential is keyed by: "user_login" (login name) or
    # "user_login_id" (numeric); the token endpoint refuses the other (stricter than needed).
    login_kind = models.CharField(
        max_length=20, default="user_login", choices=[("user_login", "user_login"), ("user_login_id", "user_login_id")]
    )
    customer_id = models.PositiveIntegerField()
    customer_name = models.CharField(max_length=200, blank=True)
    facility_id = models.PositiveIntegerField()
    facility_name = models.CharField(max_length=200, blank=True)
    facility_time_zone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "WMS account"

    def __str__(self) -> str:
        return self.client_id

    def set_secret(self, raw: str) -> None:
        self.secret_digest = hash_secret(raw)

    def check_secret(self, raw: str) -> bool:
        return secret_matches(raw, self.secret_digest)


class WmsToken(models.Model):
    account = models.ForeignKey(WmsAccount, on_delete=models.CASCADE, related_name="tokens")
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()

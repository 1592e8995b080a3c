"""The sandbox's fault-injection settings: one row per account, of either service.

The rows are read by `..faults` (which injects the faults) and written by the admin and
`..control.fault_setup`.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from connectors.sandbox import latency as answer_times

from .om_accounts import OmAccount
from .shiphero import ShipHeroAccount
from .wms_accounts import WmsAccount


class FaultConfig(models.Model):
    """Fault injection for one sandbox account (exactly one of `om_account` / `wms_account` /
    `shiphero_account`).

    Rates are probabilities in [0, 1] drawn from a per-account RNG seeded with `seed`, so a test run
    is repeatable. `quota_per_second` is a real token bucket (burst = one second's worth).
    `latency` is the answer time per endpoint group, `{group: [latency_ms, jitter_ms]}`
    (`connectors.sandbox.latency`; `clean` validates it for the account's service).
    """

    om_account = models.OneToOneField(OmAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="faults")
    wms_account = models.OneToOneField(
        WmsAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="faults"
    )
    shiphero_account = models.OneToOneField(
        ShipHeroAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="faults"
    )
    rate_429 = models.FloatField(default=0.0)
    rate_500 = models.FloatField(default=0.0)
    timeout_rate = models.FloatField(default=0.0)
    timeout_seconds = models.FloatField(default=3.0, help_text="How long a 'timeout' answer sleeps before replying.")
    malformed_rate = models.FloatField(default=0.0)
    quota_per_second = models.FloatField(null=True, blank=True, help_text="Blank: no quota.")
    retry_after_seconds = models.FloatField(default=1.0, help_text="Wait announced on an injected 429.")
    apply_to_token_endpoint = models.BooleanField(default=False)
    latency = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            'Answer time per endpoint group in ms, [latency, jitter]: e.g. {"create": [250, 100]}. '
            "WMS groups: token, create, read, cancel, stock; Order Manager: token, read, write. "
            f"Jitter at most the latency; latency + jitter at most {answer_times.MAX_ANSWER_MS} ms."
        ),
    )
    seed = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(om_account__isnull=False) & Q(wms_account__isnull=True) & Q(shiphero_account__isnull=True))
                | (Q(om_account__isnull=True) & Q(wms_account__isnull=False) & Q(shiphero_account__isnull=True))
                | (Q(om_account__isnull=True) & Q(wms_account__isnull=True) & Q(shiphero_account__isnull=False)),
                name="sandbox_faults_one_account",
            )
        ]

    def __str__(self) -> str:
        return f"faults of {self.om_account or self.wms_account or self.shiphero_account}"

    @property
    def side(self) -> str:
        """The service of the account: "om", "wms" or "shiphero" (the keys of `latency.GROUPS`)."""
        if self.om_account_id:
            return "om"
        return "shiphero" if self.shiphero_account_id else "wms"

    def clean(self):
        super().clean()
        try:
            self.latency = answer_times.validate_latency(self.side, self.latency)
        except ValueError as exc:
            raise ValidationError({"latency": str(exc)}) from None

"""The sandbox's fault-injection settings: one row per account, of either service, and the log of
the discrepancy faults it injected.

The rows are read by `..faults` and `..discrepancies` (which inject the faults) and written by the
admin and `..control.fault_setup`. `InjectedFault` is one injected discrepancy (an order left out of
a window read, an export mark lost, a tracking write dropped, a stock write drifted), so a test or
the status report can say exactly what was done to which order or SKU.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from connectors.sandbox import latency as answer_times

from .om_accounts import OmAccount
from .shiphero import ShipHeroAccount
from .wms_accounts import WmsAccount

DISCREPANCY_RATES = ("drop_order_rate", "export_mark_loss_rate", "tracking_drop_rate", "stock_drift_rate")


class FaultConfig(models.Model):
    """Fault injection for one sandbox account (exactly one of `om_account` / `wms_account` /
    `shiphero_account`).

    Rates are probabilities in [0, 1] drawn from a per-account RNG seeded with `seed`, so a test run
    is repeatable. `quota_per_second` is a real token bucket (burst = one second's worth).
    `latency` is the answer time per endpoint group, `{group: [latency_ms, jitter_ms]}`
    (`connectors.sandbox.latency`; `clean` validates it for the account's service).

    Discrepancy faults (Order Manager accounts only; `connectors.sandbox.discrepancies`), each a
    success answer that hides what really happened, drawn per order or SKU from the same RNG and
    logged as an `InjectedFault`:
    - `drop_order_rate` / `drop_order_ids` / `drop_order_reads`: a windowed order list read
      (`GET /v1.1/orders` not naming orders by id or number) leaves an order out, drawn per
      (order, read); each order is left out of at most `drop_order_reads` reads in all (counted in
      the log), so a later read, e.g. Reconciliation's after Order Download's, sees it. A read is
      the pages from a page-1 request on (`window_reads` counts them): an order left out is left out
      of every page of that read, and the pages stay full, so the client pages on;
    - `export_mark_loss_rate`: sendtofulfillment answers an order sent, but it keeps its status;
    - `tracking_drop_rate`: an external shipment is answered SHIPPED / "Shipment recorded" but
      nothing is stored (no shipment, the order keeps its status);
    - `stock_drift_rate` / `stock_drift_units`: an inventory adjustment answers the quantity asked
      but stores it off by `stock_drift_units` (never below 0).
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
            "WMS and ShipHero groups: token, create, read, cancel, stock; Order Manager: token, read, write. "
            f"Jitter at most the latency; latency + jitter at most {answer_times.MAX_ANSWER_MS} ms."
        ),
    )
    drop_order_rate = models.FloatField(
        default=0.0,
        help_text=(
            "Order Manager: chance, per order and windowed list read (GET /v1.1/orders not by orderId or "
            "orderNumber), that the read leaves the order out; the page is filled from the next orders."
        ),
    )
    drop_order_ids = models.JSONField(
        default=list,
        blank=True,
        help_text="Order Manager order ids every windowed list read leaves out (within drop_order_reads), no draw.",
    )
    drop_order_reads = models.PositiveIntegerField(
        default=1,
        help_text=(
            "At most this many windowed reads leave out any one order (counted in the injected-faults log): "
            "a later read sees it, so Reconciliation after Order Download finds it missed."
        ),
    )
    export_mark_loss_rate = models.FloatField(
        default=0.0, help_text="Order Manager: chance an order sendtofulfillment answers as sent keeps its status."
    )
    tracking_drop_rate = models.FloatField(
        default=0.0,
        help_text="Order Manager: chance an external shipment answered SHIPPED is not stored (order not shipped).",
    )
    stock_drift_rate = models.FloatField(
        default=0.0,
        help_text="Order Manager: chance an inventory adjustment stores on-hand off by stock_drift_units (answering the asked).",
    )
    stock_drift_units = models.IntegerField(
        default=5, help_text="What a drifted adjustment adds to the asked on-hand (negative: takes; never below 0)."
    )
    window_reads = models.PositiveIntegerField(
        default=0, editable=False, help_text="Windowed order list reads begun (page 1 asked): tells the reads apart."
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
        errors = {}
        for name in DISCREPANCY_RATES:
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                errors[name] = "A rate is between 0 and 1."
            elif rate and self.side == "wms":
                errors[name] = "Discrepancy faults are Order Manager's: set them on its account."
        ids = self.drop_order_ids
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            errors["drop_order_ids"] = "A list of Order Manager order ids (integers), e.g. [1001, 1002]."
        elif ids and self.side == "wms":
            errors["drop_order_ids"] = "Discrepancy faults are Order Manager's: set them on its account."
        if errors:
            raise ValidationError(errors)


class InjectedFault(models.Model):
    """One discrepancy fault the sandbox injected: what, to which order (id) or SKU, and how."""

    class Kind(models.TextChoices):
        ORDER_DROPPED = "order_dropped", "Order left out of a window read"
        EXPORT_MARK_LOST = "export_mark_lost", "Export mark lost (sendtofulfillment)"
        TRACKING_DROPPED = "tracking_dropped", "Tracking write dropped (external shipment)"
        STOCK_DRIFTED = "stock_drifted", "Stock write drifted (inventory adjust)"

    config = models.ForeignKey(FaultConfig, on_delete=models.CASCADE, related_name="injected")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    subject = models.CharField(max_length=200, help_text="The Order Manager order id, or the SKU.")
    detail = models.CharField(max_length=300, blank=True)
    read = models.PositiveIntegerField(null=True, blank=True, help_text="order_dropped: the window read left out of.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["config", "kind", "subject"], name="sandbox_injected_subject")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"

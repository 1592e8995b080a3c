"""Per-connection mappings and rules, read by the jobs through `hub.mapping.rules.Rules`.

Every row belongs to one `OrderManagerConnection` (the unit the jobs run for). A connection serves one
tenant warehouse, which runs one WMS system, so the mappings are per system by construction: the
WMS names in them are that system's (`Warehouse.wms_system`), and each system turns a mapped route
into its own order body (`WmsSystem.with_route`).

- `ConnectionRules` (at most one per connection; defaults apply when there is none): reject
  unmapped ship methods, the item filter's mode and level, and the inventory rules (minimum
  level, safety buffer, subtract orders not yet at the WMS).
- `SkuAlias`: Order Manager SKU -> WMS SKU. Without a row, the two are identical.
- `ShipMethodMapping`: an Order Manager ship method ("carrier / requested service", see
  `ship_method_key`) -> the WMS carrier and mode (service) as the warehouse's system names them
  (3PL Warehouse Manager: `routingInfo` carrier and mode; ShipHero: the shipping line's carrier and
  method). A row with a blank WMS carrier is an unmapped method collected from incoming orders for
  the operator to map.
- `CarrierMapping`: a WMS carrier name or SCAC code -> Order Manager `shippingCarrier` (overrides
  the defaults of `hub.mapping.carriers`; the target is validated against the enum by the hub's admin form,
  as tenants may not import hub).
- `ItemFilter`: one SKU (exact) or SKU prefix (`ABC*`) of the connection's allow- or block-list.

SKU fields refuse blanks, NUL bytes and more than 200 characters (SQLite would store what
PostgreSQL rejects).
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.utils import timezone

from .models.connection import OrderManagerConnection

SKU_MAX = 200
SHIP_METHOD_MAX = 200  # what an order record keeps of it
_no_nul = ProhibitNullCharactersValidator()


def validate_sku(value: str) -> None:
    """A SKU as the hub stores it: not blank, no NUL, no surrounding spaces, at most 200 characters."""
    if "\x00" in (value or ""):
        raise ValidationError("A SKU cannot contain a NUL byte.")
    if not (value or "").strip():
        raise ValidationError("The SKU is empty.")
    if value != value.strip():
        raise ValidationError("The SKU has leading or trailing spaces.")
    if len(value) > SKU_MAX:
        raise ValidationError(f"The SKU is longer than {SKU_MAX} characters.")


def ship_method_key(carrier: str, service: str) -> tuple[str, str]:
    """(display, key) of an Order Manager ship method: "UPS / UPS Ground" and "UPS / UPS GROUND".

    The key is the display text upper-cased with runs of spaces collapsed, so "ups /  ups ground"
    typed by an operator matches what orders carry. Blank carrier and service: ("", ""). Cut at
    200 characters, as the order record keeps it.
    """
    display = " / ".join(p.strip() for p in (carrier or "", service or "") if p and p.strip())[:SHIP_METHOD_MAX]
    return display, normalise_method(display)


def normalise_method(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "").strip()).upper()


class FilterMode(models.TextChoices):
    OFF = "off", "No item filter"
    ALLOW = "allow", "Allow-list: only the listed SKUs"
    BLOCK = "block", "Block-list: every SKU except the listed ones"


class FilterLevel(models.TextChoices):
    ITEM = "item", "Item: a filtered line is not sent, the rest of the order is"
    ORDER = "order", "Order: an order with a filtered line is not sent at all"


class ConnectionRules(models.Model):
    """The rule switches of one connection; a connection without a row uses the defaults below."""

    connection = models.OneToOneField(OrderManagerConnection, on_delete=models.CASCADE, related_name="rules")
    reject_unmapped_ship_methods = models.BooleanField(
        default=False,
        help_text="Hold orders whose ship method has no mapping (status error, “unmapped ship method X”); "
        "they are sent automatically on the next Order Download after the method is mapped.",
    )
    item_filter_mode = models.CharField(max_length=10, choices=FilterMode.choices, default=FilterMode.OFF)
    item_filter_level = models.CharField(max_length=10, choices=FilterLevel.choices, default=FilterLevel.ITEM)
    inventory_minimum = models.PositiveIntegerField(
        "minimum inventory level",
        default=0,
        help_text="When the quantity to publish is below this, 0 is published instead (0: no minimum).",
    )
    inventory_buffer = models.PositiveIntegerField(
        "safety buffer",
        default=0,
        help_text="Subtracted from every SKU's available quantity (never below 0).",
    )
    subtract_pending_orders = models.BooleanField(
        "subtract orders not yet at the WMS",
        default=True,
        help_text="Quantities of downloaded orders still new or held here are subtracted, so stock sold "
        "between the WMS snapshot and the sync is not sold twice.",
    )

    class Meta:
        verbose_name = "connection rules"
        verbose_name_plural = "connection rules"

    def __str__(self) -> str:
        return f"Rules of {self.connection}"


class SkuAlias(models.Model):
    """Order Manager SKU -> WMS SKU for one connection; several OM SKUs may share one WMS SKU."""

    connection = models.ForeignKey(OrderManagerConnection, on_delete=models.CASCADE, related_name="sku_aliases")
    om_sku = models.CharField("Order Manager SKU", max_length=SKU_MAX, validators=[validate_sku])
    wms_sku = models.CharField("WMS SKU", max_length=SKU_MAX, validators=[validate_sku])

    class Meta:
        ordering = ["om_sku"]
        verbose_name = "SKU alias"
        verbose_name_plural = "SKU aliases"
        constraints = [models.UniqueConstraint(fields=["connection", "om_sku"], name="unique_sku_alias")]
        indexes = [models.Index(fields=["connection", "wms_sku"], name="sku_alias_wms")]

    def __str__(self) -> str:
        return f"{self.om_sku} → {self.wms_sku}"


class ShipMethodMapping(models.Model):
    """An Order Manager ship method -> the WMS carrier and mode (service); blank carrier = not mapped yet."""

    connection = models.ForeignKey(OrderManagerConnection, on_delete=models.CASCADE, related_name="ship_methods")
    ship_method = models.CharField(
        "Order Manager ship method",
        max_length=SHIP_METHOD_MAX,
        validators=[_no_nul],
        help_text="“Carrier / requested service” as orders carry it, e.g. “UPS / UPS Ground” (case and spacing ignored).",
    )
    key = models.CharField(max_length=SHIP_METHOD_MAX, editable=False)
    wms_carrier = models.CharField(
        "WMS carrier",
        max_length=100,
        blank=True,
        validators=[_no_nul],
        help_text="The carrier as the warehouse's system names it (3PL Warehouse Manager: routingInfo.carrier "
        "from GET /properties/carriers; ShipHero: the shipping line's carrier). Blank: not mapped yet.",
    )
    wms_mode = models.CharField(
        "WMS mode (service)",
        max_length=100,
        blank=True,
        validators=[_no_nul],
        help_text="3PL Warehouse Manager: routingInfo.mode; ShipHero: the shipping line's method.",
    )
    wms_scac = models.CharField("WMS SCAC code", max_length=10, blank=True, validators=[_no_nul])
    first_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["key"]
        verbose_name = "ship-method mapping"
        constraints = [models.UniqueConstraint(fields=["connection", "key"], name="unique_ship_method")]

    def __str__(self) -> str:
        target = " / ".join(p for p in (self.wms_carrier, self.wms_mode) if p) or "not mapped"
        return f"{self.ship_method} → {target}"

    def save(self, *args, **kwargs):
        self.key = normalise_method(self.ship_method)
        super().save(*args, **kwargs)

    @property
    def is_mapped(self) -> bool:
        return bool(self.wms_carrier.strip())

    def clean(self):
        self.key = normalise_method(self.ship_method)
        if not self.key:
            raise ValidationError({"ship_method": "Enter the ship method as orders carry it."})
        if self.wms_mode.strip() and not self.wms_carrier.strip():
            raise ValidationError({"wms_carrier": "A mode needs its carrier."})


class CarrierMapping(models.Model):
    """A WMS carrier name or SCAC code -> Order Manager `shippingCarrier`, for tracking."""

    connection = models.ForeignKey(OrderManagerConnection, on_delete=models.CASCADE, related_name="carrier_mappings")
    wms_carrier = models.CharField(
        "WMS carrier name or SCAC",
        max_length=100,
        validators=[_no_nul],
        help_text="Matched ignoring case, spaces and punctuation; a SCAC code is tried before the carrier name.",
    )
    om_carrier = models.CharField(
        "Order Manager carrier",
        max_length=100,
        help_text="A value of Order Manager's shippingCarrier list, e.g. UPS, FEDEX, USPS, DHL_EXPRESS.",
    )

    class Meta:
        ordering = ["wms_carrier"]
        verbose_name = "carrier mapping"
        constraints = [models.UniqueConstraint(fields=["connection", "wms_carrier"], name="unique_carrier_mapping")]

    def __str__(self) -> str:
        return f"{self.wms_carrier} → {self.om_carrier}"


class ItemFilter(models.Model):
    """One entry of the connection's allow- or block-list (mode and level: `ConnectionRules`)."""

    connection = models.ForeignKey(OrderManagerConnection, on_delete=models.CASCADE, related_name="item_filters")
    sku = models.CharField(
        "Order Manager SKU",
        max_length=SKU_MAX,
        validators=[validate_sku],
        help_text="An exact SKU, or a prefix ending in * (ABC* matches every SKU starting with ABC).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["sku"]
        verbose_name = "item filter SKU"
        constraints = [models.UniqueConstraint(fields=["connection", "sku"], name="unique_item_filter")]

    def __str__(self) -> str:
        return self.sku

    def clean(self):
        if self.sku and "*" in self.sku[:-1]:
            raise ValidationError({"sku": "Only a trailing * is supported (a prefix such as ABC*)."})
        if self.sku == "*":
            raise ValidationError({"sku": "“*” alone would match every SKU; use the filter mode instead."})

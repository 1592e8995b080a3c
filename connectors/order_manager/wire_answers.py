"""Wire models of Order Manager's answers other than orders (those are ``wire_orders``):
warehouses, stock totals, the batched orders of external shipments, the answers of bulk writes
(``sendtofulfillment``, inventory adjust) with their per-item validation details, and the
throttle limits with the pace they allow. Read with pydantic (``connectors.wire``); the client
turns a ``WireError`` into ``MalformedResponse`` naming the call and each bad field.

Fields only shown to people or matched loosely (a validation detail's code and message) are read
leniently; the ones the hub computes with (ids, quantities, statuses, flags) are strict.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, PlainValidator, model_validator

from connectors.shapes import is_int
from connectors.wire import (
    LooseText,
    OptionalText,
    Text,
    TextOrEmpty,
    WireBool,
    WireInt,
    WireModel,
    falsy_as,
    problem,
)

__all__ = [
    "OmWarehouse",
    "OmStockTotalRow",
    "OmBatchedOrder",
    "OmFulfillmentAnswer",
    "OmAdjustAnswer",
    "OmValidationDetail",
    "OmThrottleLimit",
    "InventoryAdjustItem",
    "throttle_rate",
]


def _lenient_int(value: Any) -> int | None:
    return value if is_int(value) else None


class OmWarehouse(WireModel):
    """``warehouse`` of ``GET /v1/warehouses``."""

    warehouse_id: WireInt = Field(alias="warehouseId")
    name: Text
    type: TextOrEmpty = ""


class OmStockProduct(WireModel):
    master_sku: Text = Field(alias="masterSku")
    product_id: WireInt | None = Field(None, alias="productId")


class OmStockTotalRow(WireModel):
    """``ProductStockTotalsDto`` of ``GET /v1/productstocks/total``; absent quantities are 0."""

    product: OmStockProduct
    on_hand: WireInt | None = Field(None, alias="onHandQuantity")
    locked: WireInt | None = Field(None, alias="lockedQuantity")
    allocated: WireInt | None = Field(None, alias="allocatedQuantity")
    available: WireInt | None = Field(None, alias="availableQuantity")


class OmBatchedOrderRef(WireModel):
    order_id: WireInt | None = Field(None, alias="orderId")
    order_number: OptionalText = Field("", alias="orderNumber")


class OmBatchedOrder(WireModel):
    """``batchedOrder`` of ``PUT /v1.1/shipment/external``: ``status`` PENDING/SHIPPED/FAILED/CANCELLED."""

    status: Text
    order: Annotated[OmBatchedOrderRef, falsy_as(dict)] = Field(default_factory=dict, validate_default=True)
    processing_message: OptionalText = Field("", alias="processingMessage")


def _identifier(value: Any) -> dict | str | None:
    return value if isinstance(value, (dict, str)) else None


Identifier = Annotated[dict | str | None, PlainValidator(_identifier)]
"""How a validation detail names its item: ``{"masterSku": ..., "productId": ...}`` or a SKU."""


class OmValidationDetail(WireModel):
    """``ValidationDetailDto``: a per-item problem of a bulk write. Read leniently (only shown to
    people and matched to items): ``index`` is 1-based, ``identifier`` names the item."""

    index: Annotated[int | None, PlainValidator(_lenient_int)] = None
    error_code: LooseText = Field("", alias="errorCode")
    message: LooseText = ""
    severity: LooseText = ""
    identifier: Identifier = None
    user_identifier: Identifier = Field(None, alias="userIdentifier")

    @property
    def target(self) -> dict | str | None:
        return self.identifier if self.identifier is not None else self.user_identifier

    @property
    def is_failure(self) -> bool:
        # INFO and WARNING details accompany items that were applied.
        return (self.severity or "CRITICAL").upper() not in ("INFO", "WARNING")

    @property
    def text(self) -> str:
        code, message = self.error_code, self.message
        return f"{code}: {message}" if code and message else (code or message or "error")


class OmFulfillmentAnswer(WireModel):
    """The answer of ``POST /v1/orders/sendtofulfillment``."""

    message: TextOrEmpty = ""
    errors: Annotated[list[dict[str, Any]], falsy_as(list)] = Field(default_factory=list)
    results: Annotated[dict[str, Any], falsy_as(dict)] = Field(default_factory=dict)
    orders_remaining: WireBool = Field(False, alias="ordersRemaining")
    order_batch: Any = Field(None, alias="orderBatch")


class OmAdjustAnswer(WireModel):
    """The answer of ``POST /v1.1/inventory/adjust`` (200, or a 400 listing per-item errors)."""

    message: LooseText = ""
    errors: Annotated[list[OmValidationDetail], falsy_as(list)] = Field(default_factory=list)


class OmThrottleConfig(WireModel):
    quota_max_request: WireInt | None = Field(None, alias="quotaMaxRequest")
    quota_max_request_hourly: WireInt | None = Field(None, alias="quotaMaxRequestHourly")
    quota_restore_rate: WireInt | None = Field(None, alias="quotaRestoreRate")


class OmThrottleLimit(WireModel):
    """One entry of ``GET /v1/throttlelimits``."""

    request_method: LooseText = Field("", alias="requestMethod")
    request_path: LooseText = Field("", alias="requestPath")
    notes: LooseText = ""
    throttle_config: OmThrottleConfig | None = Field(None, alias="throttleConfig")

    @property
    def rate(self) -> float | None:
        """The steady requests/second this entry allows, or None when it states none.

        Interpretation (the API documents the fields, not their units): ``throttleConfig``
        describes a token bucket of ``quotaMaxRequest`` requests (the burst), refilled at
        ``quotaRestoreRate`` requests per second, with at most ``quotaMaxRequestHourly`` requests
        an hour. One bucket sustains min(quotaRestoreRate, quotaMaxRequestHourly / 3600).
        """
        config = self.throttle_config
        if config is None:
            return None
        restore, hourly = config.quota_restore_rate, config.quota_max_request_hourly
        candidates = [float(restore)] if restore is not None and restore > 0 else []
        if hourly is not None and hourly > 0:
            candidates.append(hourly / 3600.0)
        return min(candidates) if candidates else None


def throttle_rate(limits: list[OmThrottleLimit]) -> float | None:
    """The steady requests/second that Order Manager's published throttle limits allow, or None.

    The entries are listed per endpoint but may share one bucket per app install (the sandbox's
    do), so the whole client is paced at the smallest of them: never above any endpoint's limit.
    """
    rates = [rate for rate in (limit.rate for limit in limits) if rate]
    return min(rates) if rates else None


class InventoryAdjustItem(WireModel):
    """``PostInventoryAdjustDto``, checked before it is sent: integer ``warehouseId`` and
    ``onHandQuantity``, and a ``masterSku`` (or ``productId``)."""

    warehouse_id: WireInt = Field(alias="warehouseId")
    on_hand: WireInt = Field(alias="onHandQuantity")
    master_sku: TextOrEmpty = Field("", alias="masterSku")
    product_id: Annotated[int | None, PlainValidator(_lenient_int)] = Field(None, alias="productId")

    @model_validator(mode="after")
    def _names_the_product(self) -> InventoryAdjustItem:
        if not self.master_sku and self.product_id is None:
            raise problem("no_product", "needs a masterSku (or productId)")
        return self

"""Tables of the sandbox Order Manager and WMS: one account per tenant, everything keyed by account.

One module per service and role, all in the `sandbox` app (Django registers the models imported
here; app label, model names and table names are those of the migrations):

- `om_accounts`: Order Manager accounts, apps, install codes, tokens, warehouses;
- `om_stock`: Order Manager products and stock; `om_orders`: orders, lines, external shipments;
- `wms_accounts`: WMS credentials and tokens; `wms_stock`: item master and stock summaries;
  `wms_orders`: WMS orders, lines, packages; `wms_webhooks`: event notifications (outbox, key);
- `shiphero`: the ShipHero sandbox (accounts, tokens, customer accounts, warehouses, products and
  stock, orders, shipments with shipping labels, webhooks);
- `fault_config`: fault injection settings of an account of any of the three services.

Order Manager accounts are keyed by `username` and WMS accounts by `client_id`, so two tenants of the
hub never see each other's data. The wire ids the APIs hand out (orderId, productId, warehouseId,
orderItemId, WMS orderId, item id, ...) are the primary keys of these rows: unique across accounts,
like the real services' ids, and indexed for free. Every list view filters on an indexed
(account, ...) prefix so the benchmarks (10,000 orders, 50,000 SKUs) stay fast.

Timestamps are stored as aware UTC datetimes truncated to whole seconds (both APIs show seconds);
the WMS renders them in the account's facility time zone without an offset, like the real one.
"""

from .fault_config import FaultConfig
from .om_accounts import OmAccount, OmApp, OmAuthCode, OmToken, OmWarehouse, WarehouseType
from .om_orders import OmOrder, OmOrderItem, OmShipment, OrderStatus
from .om_stock import OmProduct, OmStock
from .shiphero import (
    ShipHeroAccount,
    ShipHeroCustomerAccount,
    ShipHeroLineItem,
    ShipHeroOrder,
    ShipHeroProduct,
    ShipHeroShipment,
    ShipHeroShipmentLineItem,
    ShipHeroShippingLabel,
    ShipHeroToken,
    ShipHeroWarehouse,
    ShipHeroWarehouseProduct,
    ShipHeroWebhook,
    ShipHeroWebhookEvent,
)
from .wms_accounts import WmsAccount, WmsToken
from .wms_orders import WmsOrder, WmsOrderItem, WmsOrderStatus, WmsPackage
from .wms_stock import WmsItem, WmsStock
from .wms_webhooks import WmsWebhookEvent, WmsWebhookKey, WmsWebhookSubscription

__all__ = [
    "FaultConfig",
    "OmAccount",
    "OmApp",
    "OmAuthCode",
    "OmOrder",
    "OmOrderItem",
    "OmProduct",
    "OmShipment",
    "OmStock",
    "OmToken",
    "OmWarehouse",
    "OrderStatus",
    "ShipHeroAccount",
    "ShipHeroCustomerAccount",
    "ShipHeroLineItem",
    "ShipHeroOrder",
    "ShipHeroProduct",
    "ShipHeroShipment",
    "ShipHeroShipmentLineItem",
    "ShipHeroShippingLabel",
    "ShipHeroToken",
    "ShipHeroWarehouse",
    "ShipHeroWarehouseProduct",
    "ShipHeroWebhook",
    "ShipHeroWebhookEvent",
    "WarehouseType",
    "WmsAccount",
    "WmsItem",
    "WmsOrder",
    "WmsOrderItem",
    "WmsOrderStatus",
    "WmsPackage",
    "WmsStock",
    "WmsToken",
    "WmsWebhookEvent",
    "WmsWebhookKey",
    "WmsWebhookSubscription",
]

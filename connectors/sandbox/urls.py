"""URLs of the sandbox: /sandbox/order-manager/..., /sandbox/warehouse-manager/... and /sandbox/shiphero/...

Paths are the real services' paths under a prefix, so a client's base URL is all that changes
between the sandbox and production (`https://api.skubana.com`, `https://secure-wms.com`,
`https://public-api.shiphero.com`).
"""

from django.urls import include, path

from connectors.order_manager.sandbox import account as om_account
from connectors.order_manager.sandbox import inventory as om_inventory
from connectors.order_manager.sandbox import oauth as om_oauth
from connectors.order_manager.sandbox import orders as om_orders
from connectors.order_manager.sandbox import shipments as om_shipments
from connectors.shiphero.sandbox import views as shiphero_views
from connectors.warehouse_manager.sandbox import canceler as wms_canceler
from connectors.warehouse_manager.sandbox import inventory as wms_inventory
from connectors.warehouse_manager.sandbox import orders as wms_orders
from connectors.warehouse_manager.sandbox import token as wms_token
from connectors.warehouse_manager.sandbox import webhook_key as wms_webhook_key

order_manager = [
    path("oauth/authorize", om_oauth.authorize, name="om-authorize"),
    path("oauth/token", om_oauth.token, name="om-token"),
    path("v1/warehouses", om_account.warehouses, name="om-warehouses"),
    path("v1.1/orders", om_orders.orders, name="om-orders"),
    path("v1.1/orders/<int:order_id>", om_orders.order_detail, name="om-order"),
    path("v1/orders/sendtofulfillment", om_orders.send_to_fulfillment, name="om-send-to-fulfillment"),
    path("v1.1/shipment/external", om_shipments.external_shipment, name="om-external-shipment"),
    path("v1/productstocks/total", om_inventory.product_stock_totals, name="om-stock-totals"),
    path("v1/inventory", om_inventory.inventory, name="om-inventory"),
    path("v1.1/inventory/adjust", om_inventory.inventory_adjust, name="om-inventory-adjust"),
    path("v1/throttlelimits", om_account.throttle_limits, name="om-throttle-limits"),
]

warehouse_manager = [
    path("AuthServer/api/Token", wms_token.token, name="wms-token"),
    path("orders", wms_orders.orders, name="wms-orders"),
    path("orders/<int:order_id>", wms_orders.order_detail, name="wms-order"),
    path("orders/<int:order_id>/canceler", wms_canceler.canceler, name="wms-canceler"),
    path("inventory/stocksummaries", wms_inventory.stock_summaries, name="wms-stock-summaries"),
    path("customers/<int:customer_id>/items", wms_inventory.customer_items, name="wms-customer-items"),
    path("events/webhook/key", wms_webhook_key.webhook_key, name="wms-webhook-key"),
]

shiphero = [
    path("auth/refresh", shiphero_views.auth_refresh, name="shiphero-auth-refresh"),
    path("graphql", shiphero_views.graphql, name="shiphero-graphql"),
]

app_name = "sandbox"
urlpatterns = [
    path("order-manager/", include(order_manager)),
    path("warehouse-manager/", include(warehouse_manager)),
    path("shiphero/", include(shiphero)),
]

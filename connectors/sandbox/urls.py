"""URLs of the sandbox: /sandbox/order-manager/... and /sandbox/warehouse-manager/...

Paths are the real services' paths under a prefix, so a client's base URL is all that changes
between the sandbox and production (`https://api.skubana.com`, `https://secure-wms.com`).
"""

from django.urls import include, path

from . import om_views, wms_views

order_manager = [
    path("oauth/authorize", om_views.authorize, name="om-authorize"),
    path("oauth/token", om_views.token, name="om-token"),
    path("v1/warehouses", om_views.warehouses, name="om-warehouses"),
    path("v1.1/orders", om_views.orders, name="om-orders"),
    path("v1.1/orders/<int:order_id>", om_views.order_detail, name="om-order"),
    path("v1/orders/sendtofulfillment", om_views.send_to_fulfillment, name="om-send-to-fulfillment"),
    path("v1.1/shipment/external", om_views.external_shipment, name="om-external-shipment"),
    path("v1/productstocks/total", om_views.product_stock_totals, name="om-stock-totals"),
    path("v1/inventory", om_views.inventory, name="om-inventory"),
    path("v1.1/inventory/adjust", om_views.inventory_adjust, name="om-inventory-adjust"),
    path("v1/throttlelimits", om_views.throttle_limits, name="om-throttle-limits"),
]

warehouse_manager = [
    path("AuthServer/api/Token", wms_views.token, name="wms-token"),
    path("orders", wms_views.orders, name="wms-orders"),
    path("orders/<int:order_id>", wms_views.order_detail, name="wms-order"),
    path("orders/<int:order_id>/canceler", wms_views.canceler, name="wms-canceler"),
    path("inventory/stocksummaries", wms_views.stock_summaries, name="wms-stock-summaries"),
    path("customers/<int:customer_id>/items", wms_views.customer_items, name="wms-customer-items"),
]

app_name = "sandbox"
urlpatterns = [
    path("order-manager/", include(order_manager)),
    path("warehouse-manager/", include(warehouse_manager)),
]

"""Sandbox Order Manager account reads: `GET /v1/warehouses` and `GET /v1/throttlelimits`.

The account's warehouses as a bare array (not paged), and the throttle limits the sandbox
enforces (the account's fault-configured quota, else a generous 100 a second), one entry per
endpoint the hub calls. Both refuse undeclared query parameters (om_protocol.om_query).
"""

from django.views.decorators.http import require_http_methods

from connectors.order_manager.sandbox import render as om_render
from connectors.order_manager.sandbox.protocol import json_response, om_query
from connectors.sandbox.api import fault_config, om_api


@om_api
@om_query("/v1/warehouses")
@require_http_methods(["GET"])
def warehouses(request, account):
    """`GET /v1/warehouses`: a bare array, not paged."""
    return json_response([om_render.warehouse(w) for w in account.warehouses.order_by("pk")])


@om_api
@om_query("/v1/throttlelimits")
@require_http_methods(["GET"])
def throttle_limits(request, account):
    """`GET /v1/throttlelimits`: what the sandbox enforces (the account's quota, else a generous one)."""
    config = fault_config(account)
    rate = int(config.quota_per_second) if config is not None and config.quota_per_second else 100
    rate = max(rate, 1)
    limit = {
        "appId": 1,
        "companyId": account.company_id,
        "quotaMaxRequest": rate,
        "quotaMaxRequestHourly": rate * 3600,
        "quotaRestoreRate": rate,
    }
    paths = [
        ("GET", "/v1/warehouses"),
        ("GET", "/v1.1/orders"),
        ("POST", "/v1/orders/sendtofulfillment"),
        ("PUT", "/v1.1/shipment/external"),
        ("GET", "/v1/productstocks/total"),
        ("GET", "/v1/inventory"),
        ("POST", "/v1.1/inventory/adjust"),
    ]
    return json_response(
        [
            {
                "requestMethod": method,
                "requestPath": path,
                "notes": "Shared per-account bucket (sandbox)",
                "throttleConfig": limit,
            }
            for method, path in paths
        ]
    )

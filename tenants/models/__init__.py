"""Tenants, their staff, their warehouses (WMS connections) and Order Manager connections.

One `Tenant` has several `Warehouse`s; each warehouse runs one WMS system (`connectors.wms.systems`)
and has at most one `OrderManagerConnection` (enforced by a one-to-one key). The jobs of the hub run
per Order Manager connection and reach the WMS through `connection.warehouse`. Credentials are
`EncryptedTextField`s: ciphertext in the database, masked in `repr()`.

One module per role, all re-exported here (the app label and model names are those of the former
single module, so no migration follows the split):
- `tenant`: `Tenant`, `TenantMembership`, `AlertContact` (and the time-zone choices);
- `warehouse`: `Warehouse` and its WMS credentials;
- `connection`: `OrderManagerConnection` (the jobs' settings);
- `install_state`: `OmInstallState`;
- per-connection mappings and rules: `tenants.mappings`.
"""

# Per-connection mappings and rules live in their own module (tenants.mappings); imported here so
# Django registers them with the app.
from ..mappings import CarrierMapping, ConnectionRules, ItemFilter, ShipMethodMapping, SkuAlias
from .connection import OrderManagerConnection, OrderStatus, TokenSource
from .install_state import OmInstallState
from .tenant import TIME_ZONE_CHOICES, AlertContact, AlertFrequency, Tenant, TenantMembership, validate_time_zone
from .warehouse import Warehouse, WmsLoginKind

__all__ = [
    "TIME_ZONE_CHOICES",
    "AlertContact",
    "AlertFrequency",
    "CarrierMapping",
    "ConnectionRules",
    "ItemFilter",
    "OmInstallState",
    "OrderManagerConnection",
    "OrderStatus",
    "ShipMethodMapping",
    "SkuAlias",
    "Tenant",
    "TenantMembership",
    "TokenSource",
    "Warehouse",
    "WmsLoginKind",
    "validate_time_zone",
]

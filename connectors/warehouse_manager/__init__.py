"""Extensiv 3PL Warehouse Manager, one adapter behind `connectors.wms`: everything the hub knows of
its wire, in one folder.

- `system`: the `WmsSystem` (capabilities, the `POST /orders` body);
- `client`: `WarehouseManagerClient`, one credential scoped to one customer and facility (orders,
  cancel, stock), implementing `connectors.wms.base.WarehouseClient`;
- `wire`: pydantic models of what the client reads (HAL and plain representations);
- `sandbox/`: the sandbox's Warehouse Manager endpoints (RQL, content negotiation, strict refusals).
"""

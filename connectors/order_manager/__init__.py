"""Extensiv Order Manager: everything the hub knows of its wire, in one folder, one role a module.

- `client`: `OrderManagerClient` (orders, shipments, stock, warehouses, throttle limits), paced and
  retried by `connectors.transport`, typed answers out; the calls only;
- `paging`: paged reads, re-read in halved pages (or halved id lists) past the size cap;
- `inventory`: stock-total queries and the per-item answers of inventory adjust;
- `errors`: the 401 as a reconnect, malformed answers naming the field, `WarehouseNotFound`;
- `install`: the app install (authorize URL, the one-time code exchange);
- `wire_orders`, `wire_answers`: pydantic models of what the client reads, naming the field of a
  malformed answer;
- `sandbox/`: the sandbox's Order Manager endpoints (a test instrument built from the vendored spec,
  `connectors/specs/`, stricter than the real service where it must choose).
"""

"""Extensiv 3PL Warehouse Manager, one adapter behind `connectors.wms`: everything the hub knows of
its wire, in one folder, one role a module.

- `system`: the `WmsSystem` (capabilities, the `POST /orders` body);
- `client`: `WarehouseManagerClient`, one credential scoped to one customer and facility (orders,
  cancel, stock), implementing `connectors.wms.base.WarehouseClient`; the calls only;
- `token`: the client-credentials token request and its answer;
- `rql`: the RQL filters (value escaping, the customer/facility scope);
- `timestamps`: offset-less facility-local timestamps, read and written;
- `answers`: answers read into typed values, and the scope guard on every order read;
- `order_pages`: paging the modified-orders poll (de-duplication, endless-paging guards);
- `stock`: the customer's items and the stock summed from them (`StockReport`);
- `errors`: .NET error bodies in plain words, `DuplicateOrder`, `OrderNotCancellable`;
- `wire`, `wire_pages`: pydantic models of the records and of the two page representations;
- `sandbox/`: the sandbox's Warehouse Manager endpoints (RQL, content negotiation, strict refusals).
"""

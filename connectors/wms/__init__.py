"""The warehouse as the jobs see it, whatever system runs it: the adapter seam.

- `connectors.wms.base`: what every WMS adapter provides — its declared capabilities, the order body
  it sends built from neutral lines and routes, and the calls (send, find ours by reference, cancel,
  read changed orders with packages, read stock).
- `connectors.wms.systems`: the systems the hub can deliver to, by the key stored on each tenant
  warehouse (`Warehouse.wms_system`).
"""

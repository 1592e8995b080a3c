"""The jobs, one module each, read top to bottom: `order_download`, `order_cancel_download`,
`shipment_confirmation`, `inventory_sync`; `registry` maps each Job to its module.

Roles the jobs share (no job imports another job):
- `binding`: the hub's orders at the WMS (find ours by reference, link, mark at the WMS);
- `intake`: recording downloaded orders (new, held and read again, released);
- `order_manager_reads`: the warehouse id, and orders too large to read;
- `reprocess`: the operator's re-process of a quarantined order, through `intake`.
"""

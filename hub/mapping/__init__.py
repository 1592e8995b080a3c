"""The hub's mapping between the two systems: the connection's rules (`rules`: SKU aliases, item
filter, ship-method routes, inventory buffers), the order as sent to the warehouse (`order_mapping`)
and carrier names from the WMS to Order Manager (`carriers`). The rows an operator edits live in
`tenants.mappings`; their admin in `hub.admin.mappings`.
"""

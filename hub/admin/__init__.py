"""The hub's Django admin, one module an area; importing this package registers every admin.

- `base`: the read-only, tenant-scoped `AuditAdmin` and its helpers;
- `runs`, `orders`, `inventory`, `alerts`: the audit lists and pages;
- `mappings`: ship-method, carrier and SKU mappings and the connection's mappings page;
- `views`: the pre-flight report and the inventory page under each Order Manager connection;
- `actions`: the operator's operations (re-send, retry tracking, Run now, ...);
- `dashboard`, `charts`: the admin index (templates/admin/index.html).
"""

from django.contrib import admin

from hub.admin import alerts, inventory, mappings, orders, runs, views  # noqa: F401  (each registers its admins)

# The admin is the product's face: its name on every page, and the index is the dashboard
# (templates/admin/index.html).
admin.site.site_header = "Order Manager hub"
admin.site.site_title = "Order Manager hub"
admin.site.index_title = "Dashboard"

# The pre-flight report and inventory page under each Order Manager connection (hub/admin/views.py).
views.register()

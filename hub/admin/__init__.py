"""The hub's Django admin, one module an area; importing this package registers every admin.

- `base`: the read-only, tenant-scoped `AuditAdmin` and its helpers;
- `runs`, `orders`, `inventory`, `alerts`, `findings`: the audit lists and pages;
- `mappings`: ship-method, carrier and SKU mappings and the connection's mappings page;
- `views`: the pre-flight report, the inventory page and the Reconciliation report (`findings_report`)
  under each Order Manager connection; `finding_actions`: the operator's actions on findings;
- `actions`: the operator's operations (re-send, retry tracking, Run now, ...);
- `dashboard`, `charts`: the admin index (templates/admin/index.html);
- `webhooks`: WMS webhook endpoints (URL, token, counts) and their deliveries;
- `superuser_apps`: the queue, login lockouts and sandbox, for superusers only.
"""

from django.contrib import admin

from hub.admin import alerts, findings, inventory, mappings, orders, runs, superuser_apps, views, webhooks  # noqa: F401

# The admin is the product's face: its name on every page, and the index is the dashboard
# (templates/admin/index.html).
admin.site.site_header = "Order Manager hub"
admin.site.site_title = "Order Manager hub"
admin.site.index_title = "Dashboard"

# The pre-flight report and inventory page under each Order Manager connection (hub/admin/views.py).
views.register()

# The queue, login lockouts and sandbox are for superusers only (hub.admin.superuser_apps); hub's
# admin is imported last of the apps' (INSTALLED_APPS order), so theirs are registered by now.
superuser_apps.restrict(admin.site)

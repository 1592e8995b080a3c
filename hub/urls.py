"""URL map: the admin is the product's face; /healthz and /metrics for operations; the sandbox is mounted only when enabled."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from hub.ops import health, metrics
from hub.webhooks import views as webhooks
from tenants import om_connect

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),  # load balancers: no login (hub.ops.health)
    path("metrics", metrics.metrics, name="metrics"),
    # WMS event notifications: the token is the endpoint's secret path (hub.webhooks.views)
    path("webhooks/wms/<str:token>/", webhooks.receive, name="wms-webhook"),
    path(
        "om/connect/callback", om_connect.callback, name="om-connect-callback"
    ),  # HUB_OM_REDIRECT_URL  # Prometheus: token or network (hub.ops.metrics)
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("connectors.sandbox.urls")))

"""What the hub's pages under a connection's admin URL share: the connection (tenant-scoped through
the connection admin's `get_object`: another tenant's connection is a 404; the view permission
needed), the admin context with the links between the pages, and local times with their zone.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.http import urlencode

from tenants.admin_times import format_moment


def connection_or_404(model_admin, request, object_id):
    connection = model_admin.get_object(request, object_id)
    if connection is None:
        raise Http404("No such connection.")
    if not model_admin.has_view_or_change_permission(request, connection):
        raise PermissionDenied
    return connection


def page_context(model_admin, request, connection, title: str, **extra) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": connection,
        "connection": connection,
        "title": title,
        "connection_url": reverse("admin:tenants_ordermanagerconnection_change", args=[connection.pk]),
        "preflight_url": reverse("admin:tenants_ordermanagerconnection_preflight", args=[connection.pk]),
        "inventory_url": reverse("admin:tenants_ordermanagerconnection_inventory", args=[connection.pk]),
        "orders_url": reverse("admin:hub_orderrecord_changelist")
        + "?"
        + urlencode({"connection__id__exact": connection.pk}),
        **extra,
    }


def local(moment: datetime.datetime | None, zone) -> str:
    """`moment` in the tenant's `zone`, in the hub's one format (tenants.admin_times)."""
    return format_moment(moment, zone)

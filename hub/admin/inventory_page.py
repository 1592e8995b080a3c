"""The inventory page under an Order Manager connection's admin URL (`<connection id>/inventory/`,
`admin:tenants_ordermanagerconnection_inventory`, registered by `hub.admin.views.register`): the last
Inventory Sync run's lines (WMS available, Order Manager locked, on hand written), those that need
the operator first, with what to do about each; `?run=<id>` shows an older run of the same connection.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from hub.admin.page import connection_or_404, local, page_context
from hub.models import InventoryLine, Job, SyncRun

Result = InventoryLine.Result
NEEDS_OPERATOR = (Result.NO_STARTING_INVENTORY, Result.UNKNOWN_PRODUCT, Result.FAILED)
WHAT_TO_DO = {
    Result.NO_STARTING_INVENTORY: "Assign starting inventory to this SKU in the Order Manager warehouse; "
    "the hub never creates stock records.",
    Result.UNKNOWN_PRODUCT: "No Order Manager product has this SKU: create the product or fix the SKU at the WMS.",
    Result.FAILED: "Order Manager refused the update (see the message); the next run tries again.",
}
NEEDS_OPERATOR_SHOWN = 500
LINES_PER_PAGE = 200


def inventory_view(model_admin, request, object_id):
    """The last Inventory Sync run of the connection (or `?run=<id>` of its own runs), line by line."""
    connection = connection_or_404(model_admin, request, object_id)
    runs = SyncRun.objects.filter(connection=connection, job=Job.INVENTORY_SYNC).defer("calls")
    run_id = request.GET.get("run", "")
    run = runs.filter(pk=run_id).first() if run_id.isdigit() else runs.order_by("-started_at", "-pk").first()
    if run_id and run is None:
        raise Http404("No such inventory run for this connection.")
    context = {"run": run, "needs": [], "counts": [], "page": None}
    if run is not None:
        lines = InventoryLine.objects.filter(run=run)
        by_result = dict(lines.values_list("result").annotate(n=Count("pk")).order_by())
        needs = list(lines.filter(result__in=NEEDS_OPERATOR).order_by("result", "sku")[:NEEDS_OPERATOR_SHOWN])
        needs_total = sum(by_result.get(r, 0) for r in NEEDS_OPERATOR)
        paginator = Paginator(lines.order_by("sku", "pk"), LINES_PER_PAGE)
        page = paginator.get_page(request.GET.get("page"))
        run_param = {"run": run.pk} if run_id else {}
        context.update(
            needs=[{"line": line, "todo": WHAT_TO_DO[line.result]} for line in needs],
            needs_total=needs_total,
            needs_more_url=reverse("admin:hub_inventoryline_changelist")
            + "?"
            + urlencode({"run__id__exact": run.pk, "result__in": ",".join(NEEDS_OPERATOR)})
            if needs_total > len(needs)
            else "",
            counts=[
                {"label": label, "value": value, "count": by_result.get(value, 0), "bad": value in NEEDS_OPERATOR}
                for value, label in Result.choices
                if by_result.get(value)
            ],
            total=sum(by_result.values()),
            page=page,
            # (label, url): the elided range's "…" entries get no URL.
            page_urls=[
                (n, "?" + urlencode({**run_param, "page": n}) if isinstance(n, int) else "")
                for n in page.paginator.get_elided_page_range(page.number)
            ]
            if page.paginator.num_pages > 1
            else [],
            run_url=reverse("admin:hub_syncrun_change", args=[run.pk]),
            zone=connection.warehouse.tenant.zone,
        )
    context["started"] = local(run.started_at, connection.warehouse.tenant.zone) if run else ""
    context["inventory_blocked"] = connection.inventory_sync_blocked_reason
    context = page_context(model_admin, request, connection, f"Inventory: {connection}", **context)
    return TemplateResponse(request, "admin/hub/inventory.html", context)

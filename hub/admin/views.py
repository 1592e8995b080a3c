"""The pre-flight report under an Order Manager connection's admin URL, and the registration of the
hub's pages there.

Registered on `tenants.admin.OrderManagerConnectionAdmin` through `tenants.admin.add_connection_page`
(tenants must not import hub), by `register()`, which `hub.admin` calls:

- `preflight_view` at `<connection id>/preflight/` (`admin:tenants_ordermanagerconnection_preflight`),
  where "Test connection" leads when it succeeds: what the test found (resolved warehouse id and
  type, orders waiting in the pickup status, WMS SKUs with no starting inventory in Order
  Manager), the next due time of each job, the "start from" setting (editable until the first
  Order Download succeeded), **Activate** / **Deactivate**, and Run now for each job.
- `hub.admin.inventory_page.inventory_view` at `<connection id>/inventory/`.
- `hub.admin.findings_report.report_view` at `<connection id>/findings/`: Reconciliation's report.
- the Run now buttons on the connection's own page (`tenants.admin.add_connection_tool`).

A new connection does nothing until it is activated (`hub.engine.eligibility` refuses every job).
Activate is offered once both systems passed Test connection; it shows how many orders waiting
will be sent, asks for the start (Integration Manager's Earliest Order Date) and records who and
when. Deactivating stops every job and keeps each one's watermark, so activating again continues.

Changing "start from" or activation needs the connection's change permission, running a job the
"change job state" permission.

Run now (`hub.admin.run_now`) queues the run on django-q2 like every run and leads to its progress
page, which follows it to its end; a run that stays queued says to check the worker cluster.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from hub.admin import findings_report, inventory_page, run_now
from hub.admin.page import connection_or_404, local, page_context
from hub.engine import eligibility, schedule
from hub.models import Job, JobState, OrderRecord
from tenants.admin import ConnectionPage, add_connection_page, add_connection_tool
from tenants.models import OrderStatus

INPUT_FORMAT = "%Y-%m-%dT%H:%M"


# -- pre-flight ----------------------------------------------------------------------------------


class StartFromForm(forms.Form):
    """ "Start from" as a local date and time in the tenant's zone (blank: every order waiting)."""

    start_from = forms.DateTimeField(
        required=False,
        input_formats=[INPUT_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=INPUT_FORMAT),
        label="Start from",
    )


def _preset(name: str, zone, now: datetime.datetime) -> datetime.datetime | None:
    local_now = timezone.localtime(now, zone)
    if name == "now":
        return now
    if name == "today":
        return local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    if name == "week":
        return (local_now - datetime.timedelta(days=7)).replace(hour=0, minute=0, second=0, microsecond=0)
    return None  # "all"


def _schedule_text(connection, job: Job, zone_name: str) -> str:
    if job == Job.INVENTORY_SYNC:
        times = ", ".join(
            t.strftime("%H:%M")
            for t in schedule.slot_times(connection.inventory_time, connection.inventory_times_per_day)
        )
        per_day = connection.inventory_times_per_day
        return f"{'daily' if per_day == 1 else f'{per_day} times a day'} at {times} ({zone_name})"
    if job == Job.RECONCILIATION:
        return f"daily at {connection.reconciliation_time:%H:%M} ({zone_name})"
    interval = getattr(connection, schedule.INTERVAL_FIELDS[job][1])
    return f"every {interval} min"


def _job_rows(connection, states: dict, zone) -> list[dict]:
    rows = []
    for job in Job:
        state = states.get(job)
        reason = eligibility.blocked_reason(connection, job)
        due = state.next_due_at if state else None
        if reason:
            next_text = f"not scheduled: {reason}"
        elif state and state.attention:
            next_text = f"needs attention: {state.attention}"
        elif due is None:
            next_text = "not scheduled yet (save the connection)"
        else:
            next_text = (
                "due now (the next dispatcher tick, at most a minute)" if due <= timezone.now() else local(due, zone)
            )
        rows.append(
            {
                "job": job,
                "schedule": _schedule_text(connection, job, zone.key),
                "next": next_text,
                "ok": not reason and not (state and state.attention),
                "last_run": state.last_run if state else None,
            }
        )
    return rows


def _verdict(report: dict, wms_report: dict, connection) -> tuple[str, str]:
    if not report:
        return "bad", "Not tested yet: use “Test connection” on the connection page."
    if not report.get("ok"):
        return "bad", f"Order Manager test failed: {report.get('error', 'unknown error')}"
    if wms_report and not wms_report.get("ok"):
        return "bad", f"The WMS test failed: {wms_report.get('error', 'unknown error')}"
    missing = report.get("no_starting_inventory_count") or 0
    notes = []
    if missing:
        notes.append(
            f"{missing} WMS SKU{'s' if missing != 1 else ''} will not sync until starting inventory is assigned"
        )
    if not connection.warehouse_name.strip():
        notes.append("no warehouse name: orders from every location, no Inventory Sync")
    if notes:
        return "warn", "Connected, with notes: " + "; ".join(notes) + "."
    return "ok", "Connected: both systems answered and every WMS SKU has starting inventory in Order Manager."


def preflight_view(model_admin, request, object_id):
    """GET: the report. POST `action=start_from` (with `start_from` or `preset`), `activate` or `deactivate`."""
    connection = connection_or_404(model_admin, request, object_id)
    tenant = connection.warehouse.tenant
    zone = tenant.zone
    states = {
        state.job: state
        for state in JobState.objects.filter(connection=connection).select_related("last_run").defer("last_run__calls")
    }
    orders_state = states.get(Job.ORDER_DOWNLOAD)
    first_run_done = bool(orders_state and orders_state.watermark)
    can_change = model_admin.has_change_permission(request, connection)
    report = connection.last_test_report or {}
    here = reverse("admin:tenants_ordermanagerconnection_preflight", args=[connection.pk])

    with timezone.override(zone):
        # Naive local time: the widget would otherwise convert an aware value to the zone active
        # at render time, after this block.
        initial = (
            timezone.localtime(connection.start_from, zone).replace(tzinfo=None) if connection.start_from else None
        )
        form = StartFromForm(initial={"start_from": initial})
        if request.method == "POST":
            action = request.POST.get("action")
            if action == "start_from":
                if not can_change:
                    raise PermissionDenied
                form = StartFromForm(request.POST)
                if first_run_done:
                    messages.error(request, "The first Order Download already ran: “start from” no longer applies.")
                elif form.is_valid():
                    preset = request.POST.get("preset", "")
                    value = _preset(preset, zone, timezone.now()) if preset else form.cleaned_data["start_from"]
                    _save_start_from(model_admin, request, connection, value, zone)
                    return HttpResponseRedirect(here)
            elif action in ("activate", "deactivate"):
                if not can_change:
                    raise PermissionDenied
                if action == "deactivate":
                    _deactivate(model_admin, request, connection)
                    return HttpResponseRedirect(here)
                form = StartFromForm(request.POST)
                if form.is_valid():
                    preset = request.POST.get("preset", "")
                    value = _preset(preset, zone, timezone.now()) if preset else form.cleaned_data["start_from"]
                    if _activate(model_admin, request, connection, report, value, zone, first_run_done):
                        return HttpResponseRedirect(here)
            else:
                messages.error(request, "Unknown action.")

    wms_report = connection.warehouse.last_test_report or {}
    level, verdict = _verdict(report, wms_report, connection)
    last_orders_run = orders_state.last_run if orders_state else None
    context = page_context(
        model_admin,
        request,
        connection,
        f"Pre-flight: {connection}",
        report=report,
        wms_report=wms_report,
        tested_at=local(connection.last_tested_at, zone),
        wms_tested_at=local(connection.warehouse.last_tested_at, zone),
        level=level,
        verdict=verdict,
        pickup_status=OrderStatus(connection.pickup_status).label
        if connection.pickup_status in OrderStatus.values
        else connection.pickup_status,
        missing_skus=report.get("no_starting_inventory_skus") or [],
        missing_count=report.get("no_starting_inventory_count"),
        # When the SKUs were not compared: why (the WMS stock could not be read, or no warehouse).
        inventory_note=report.get("wms_stock") or "not checked: no Order Manager warehouse name",
        jobs=_job_rows(connection, states, zone),
        zone_name=zone.key,
        form=form,
        start_from=local(connection.start_from, zone),
        first_run_done=first_run_done,
        can_change=can_change,
        activation_refusal=activation_refusal(connection, report),
        activated_at=local(connection.activated_at, zone),
        orders_waiting=report.get("orders_waiting"),
        last_orders_run=last_orders_run,
        at_wms_url=reverse("admin:hub_orderrecord_changelist")
        + "?"
        + urlencode({"connection__id__exact": connection.pk, "status__exact": OrderRecord.Status.AT_WMS}),
        errors_url=reverse("admin:hub_orderrecord_changelist")
        + "?"
        + urlencode({"connection__id__exact": connection.pk, "status__exact": OrderRecord.Status.ERROR}),
        test_url=reverse("admin:tenants_ordermanagerconnection_test", args=[connection.pk]),
    )
    return TemplateResponse(request, "admin/hub/preflight.html", context)


def _save_start_from(model_admin, request, connection, value, zone) -> None:
    connection.start_from = value
    # update_fields: "start from" is not a schedule field, so the schedule signal leaves the jobs alone.
    connection.save(update_fields=["start_from"])
    text = (
        f"Start from set to {local(value, zone)}."
        if value
        else "Start from cleared: the first run downloads every order waiting."
    )
    model_admin.log_change(request, connection, text)
    messages.success(request, text)


def activation_refusal(connection, report: dict) -> str:
    """Why the connection cannot be activated now, or "" when it can."""
    if connection.is_activated:
        return "The connection is active already."
    if not report.get("ok"):
        return "Run “Test connection” successfully first: activating sends orders to the WMS."
    wms_report = connection.warehouse.last_test_report or {}
    if not wms_report.get("ok"):
        return "The WMS has not passed “Test connection” yet: test the connection again."
    return ""


def _activate(model_admin, request, connection, report: dict, start_from, zone, first_run_done: bool) -> bool:
    why_not = activation_refusal(connection, report)
    if why_not:
        messages.error(request, why_not)
        return False
    connection.activated_at, connection.activated_by = timezone.now(), request.user
    fields = ["activated_at", "activated_by"]
    if not first_run_done:  # a reactivation continues from the watermark; "start from" is for the first run
        connection.start_from = start_from
        fields.append("start_from")
    # Saving activated_at makes the jobs due (hub.engine.schedule_signals): the first runs start at
    # the next dispatcher tick.
    connection.save(update_fields=fields)
    if first_run_done:
        text = "Activated again: each job continues where it stopped."
    else:
        start = f"orders modified since {local(start_from, zone)}" if start_from else "every order waiting"
        text = f"Activated: the jobs start at the next dispatcher tick; Order Download sends {start} to the WMS."
    model_admin.log_change(request, connection, text)
    messages.success(request, text)
    return True


def _deactivate(model_admin, request, connection) -> None:
    if not connection.is_activated:
        messages.info(request, "The connection is not active.")
        return
    connection.activated_at = connection.activated_by = None
    connection.save(update_fields=["activated_at", "activated_by"])
    text = "Deactivated: no job runs until it is activated again; the jobs keep where they stopped."
    model_admin.log_change(request, connection, text)
    messages.success(request, text)


def register() -> None:
    """Add the pre-flight, inventory and Reconciliation pages to the connection admin (idempotent)."""
    add_connection_page(ConnectionPage("preflight", "Pre-flight report", preflight_view, after_test=True))
    add_connection_page(ConnectionPage("inventory", "Inventory", inventory_page.inventory_view))
    add_connection_page(ConnectionPage("findings", "Reconciliation report", findings_report.report_view))
    add_connection_tool("run_now", run_now.render_buttons)

""" "Test connection" for the admin: authenticate, resolve, and report in plain words.

`check_order_manager(connection)` authenticates with Order Manager, resolves the warehouse name
to its id and type (stored on the connection), reads the throttle limits, counts the orders
waiting in the pickup status, and lists WMS SKUs in stock that have no starting inventory in
Order Manager (they would not sync). `check_warehouse(warehouse)` authenticates with the
warehouse's system and makes one cheap read with the credential. Both store their report on the row and return it as a
dict with `ok` and either the findings or `error` (a sentence an operator can act on). The Order
Manager report also keeps the missing SKUs as a list (`no_starting_inventory_skus`, first
STORED_SKUS_LIMIT, and `no_starting_inventory_count`) for the pre-flight page; `format_report`
leaves those out of its one-line summary.
"""

from __future__ import annotations

from django.utils import timezone

from connectors.errors import AuthenticationError, ConnectorError, NetworkError
from connectors.order_manager.errors import WarehouseNotFound
from connectors.wms import systems as wms_systems

from . import clients
from .models.warehouse import THREEPL

# An operator is waiting on the page: one try per call, not the jobs' retries with backoff
# (an unreachable host would otherwise take half a minute to report).
INTERACTIVE = {"max_retries": 1}

# Enough to tell an operator "about this many"; counting further would page through everything.
COUNT_LIMIT = 1000
LIST_LIMIT = 20
# The pre-flight report lists this many SKUs without starting inventory (the count is exact).
STORED_SKUS_LIMIT = 500
# Report keys kept for the pre-flight page, left out of the one-line summary (`format_report`).
DETAIL_KEYS = frozenset({"no_starting_inventory_skus", "no_starting_inventory_count"})


# What each side's credentials are, named in the "rejected the credentials" sentence.
CREDENTIALS = {
    "Order Manager": "wrong or revoked access token",
    "3PL Warehouse Manager": "wrong client id/secret or user login",
    "ShipHero": "wrong or revoked refresh token, or a customer account id this user may not act for",
}
# The reference the cheap read of `check_warehouse` looks up: no order carries it, so the answer is
# "none", and getting that answer proves the credential may read orders.
PROBE_REFERENCE = "hub-connection-test"


def plain_error(exc: Exception, system: str) -> str:
    if isinstance(exc, AuthenticationError):
        what = CREDENTIALS.get(system, "wrong access token, client id/secret or user login")
        return f"{system} rejected the credentials ({what}): {exc}"
    if isinstance(exc, WarehouseNotFound):
        return str(exc)
    if isinstance(exc, NetworkError):
        return f"{system} is unreachable (host down, wrong base URL or firewall): {exc}"
    if isinstance(exc, ConnectorError):
        return f"{system} answered with an error: {exc}"
    return f"Unexpected problem talking to {system}: {type(exc).__name__}: {exc}"


def check_order_manager(connection) -> dict:
    report: dict = {"ok": False}
    om = clients.order_manager(connection, **INTERACTIVE)
    try:
        om.authenticate()
        report["authenticated"] = "yes"
        if connection.warehouse_name.strip():
            found = om.resolve_warehouse(connection.warehouse_name)
            connection.om_warehouse_id = found.warehouse_id
            connection.om_warehouse_type = found.type
            report["warehouse"] = f"{found.name} (id {connection.om_warehouse_id}, {connection.om_warehouse_type})"
        else:
            report["warehouse"] = "no warehouse name: orders from every location, Inventory Sync disabled"
        limits = om.throttle_limits()
        report["throttle_limits"] = len(limits)
        waiting = 0
        for _ in om.iter_orders(
            statuses=[connection.pickup_status], warehouse_id=connection.om_warehouse_id, limit=100
        ):
            waiting += 1
            if waiting >= COUNT_LIMIT:
                break
        report["orders_waiting"] = f"{waiting}+" if waiting >= COUNT_LIMIT else waiting
        if connection.om_warehouse_id is not None:
            report.update(missing_starting_inventory(connection, om))
        report["ok"] = True
        connection.clear_circuit()
    except Exception as exc:  # every failure becomes a sentence in the admin, never a 500 page
        report["error"] = plain_error(exc, "Order Manager")
    finally:
        om.close()
    connection.last_tested_at = timezone.now()
    connection.last_test_report = report
    connection.save(update_fields=["om_warehouse_id", "om_warehouse_type", "last_tested_at", "last_test_report"])
    return report


def missing_starting_inventory(connection, om) -> dict:
    """WMS SKUs in stock with no stock record in the Order Manager warehouse (they will not sync)."""
    wms = clients.warehouse(connection, **INTERACTIVE)
    try:
        available = wms.stock_report().available
    except ConnectorError as exc:
        return {"wms_stock": plain_error(exc, connection.wms_system.label)}
    finally:
        wms.close()
    in_om = {s.sku for s in om.iter_stock_totals(connection.om_warehouse_id)}
    missing = sorted(sku for sku, qty in available.items() if qty > 0 and sku not in in_om)
    shown = ", ".join(missing[:LIST_LIMIT]) + (
        f" and {len(missing) - LIST_LIMIT} more" if len(missing) > LIST_LIMIT else ""
    )
    return {
        "wms_skus_in_stock": sum(1 for qty in available.values() if qty > 0),
        "no_starting_inventory_in_order_manager": shown or "none",
        "no_starting_inventory_count": len(missing),
        "no_starting_inventory_skus": missing[:STORED_SKUS_LIMIT],
    }


def check_warehouse(warehouse) -> dict:
    """Sign in to the warehouse's system and make one cheap read with the credential: 3PL Warehouse
    Manager counts the facility's SKUs in stock (its stock summary is one short read); another
    system looks up `PROBE_REFERENCE` (one order query, where a full stock read would page through
    the catalogue and spend the account's credits)."""
    report: dict = {"ok": False}
    label = "The WMS"
    try:
        label = wms_systems.system_of(warehouse.wms_system).label
        wms = clients.warehouse_for_warehouse(warehouse, **INTERACTIVE)
    except Exception as exc:  # an unknown system, an adapter that will not load: a sentence, not a 500
        report["error"] = plain_error(exc, label)
        wms = None
    try:
        if wms is not None:
            wms.authenticate()
            report["authenticated"] = "yes"
            if warehouse.wms_system == THREEPL:
                available = wms.stock_available()
                report["skus_in_stock"] = sum(1 for qty in available.values() if qty > 0)
            else:
                found = wms.find_order_by_reference(PROBE_REFERENCE)
                report["orders_readable"] = "yes" if found is None else f"yes (an order carries {PROBE_REFERENCE})"
            report["ok"] = True
    except Exception as exc:
        report["error"] = plain_error(exc, label)
    finally:
        if wms is not None:
            wms.close()
    warehouse.last_tested_at = timezone.now()
    warehouse.last_test_report = report
    warehouse.save(update_fields=["last_tested_at", "last_test_report"])
    return report


def format_report(report: dict) -> str:
    if not report:
        return "never tested"
    if not report.get("ok"):
        return f"failed: {report.get('error', 'unknown error')}"
    return "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in report.items() if k != "ok" and k not in DETAIL_KEYS)

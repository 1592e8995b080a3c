"""The body of a sandbox Warehouse Manager `POST /orders`, checked as the real service checks it.

`parse_order(body, account)` returns the body and its lines resolved against the customer's item
master (item, quantity, qualifier), or raises `api.BadRequest(code, message, property)`: no
customer or facility, one the credential does not see, no or an over-long `referenceNum`, no
order items, an item without SKU or id, a quantity that is not a positive number, or a SKU the
item master does not have (the WMS never creates items from an order).
"""

from decimal import Decimal, InvalidOperation

from connectors.sandbox.api import BadRequest
from connectors.sandbox.models import WmsAccount, WmsItem


def parse_order(body, account: WmsAccount) -> tuple[dict, list[tuple[WmsItem, Decimal, str]]]:
    """Validate a create-order body; raises BadRequest with (code, message, property) in args."""
    if not isinstance(body, dict):
        raise BadRequest("Required", "The body must be an order object", "order")
    customer = body.get("customerIdentifier") or {}
    facility = body.get("facilityIdentifier") or {}
    if not isinstance(customer, dict) or not (customer.get("id") or customer.get("name") or customer.get("externalId")):
        raise BadRequest("Required", "customerIdentifier is required", "customerIdentifier")
    if customer.get("id") not in (None, account.customer_id) or (
        customer.get("id") is None and customer.get("name") not in (None, account.customer_name)
    ):
        raise BadRequest(
            "DoesNotExist", f"Customer {customer} does not exist or is not accessible", "customerIdentifier"
        )
    if not isinstance(facility, dict) or not (facility.get("id") or facility.get("name")):
        raise BadRequest("Required", "facilityIdentifier is required", "facilityIdentifier")
    if facility.get("id") not in (None, account.facility_id) or (
        facility.get("id") is None and facility.get("name") != account.facility_name
    ):
        raise BadRequest("DoesNotExist", f"Facility {facility} does not exist for this customer", "facilityIdentifier")
    reference = body.get("referenceNum")
    if not isinstance(reference, str) or not reference.strip():
        raise BadRequest("Required", "referenceNum is required", "referenceNum")
    if len(reference) > 100:
        raise BadRequest("ValueNotSupported", "referenceNum is longer than 100 characters", "referenceNum")
    lines = body.get("orderItems")
    if not isinstance(lines, list) or not lines:
        raise BadRequest("Required", "orderItems must hold at least one item", "orderItems")
    wanted = []
    for position, line in enumerate(lines):
        ident = line.get("itemIdentifier") if isinstance(line, dict) else None
        if not isinstance(ident, dict) or not (ident.get("sku") or ident.get("id")):
            raise BadRequest(
                "Required", f"orderItems[{position}].itemIdentifier (sku or id) is required", "itemIdentifier"
            )
        try:
            qty = Decimal(str(line.get("qty")))
        except InvalidOperation:
            qty = Decimal(0)
        if not qty.is_finite() or qty <= 0:
            raise BadRequest("Required", f"orderItems[{position}].qty must be a positive number", "qty")
        wanted.append((ident, qty, str(line.get("qualifier") or "")))
    ids = {ident["id"] for ident, _, _ in wanted if ident.get("id")}
    skus = {ident["sku"] for ident, _, _ in wanted if not ident.get("id")}
    own = WmsItem.objects.filter(account=account, customer_id=None)  # the order's customer's item master
    items = list(own.filter(sku__in=skus)) + list(own.filter(pk__in=ids))
    by_sku = {item.sku: item for item in items}
    by_id = {item.pk: item for item in items}
    resolved = []
    for ident, qty, qualifier in wanted:
        item = by_id.get(ident["id"]) if ident.get("id") else by_sku.get(ident["sku"])
        if item is None:
            shown = ident.get("sku") or f"id {ident.get('id')}"
            raise BadRequest(
                "DoesNotExist",
                f"Item SKU “{shown}” does not exist for customer {account.customer_id}; create it in the item master first",
                "itemIdentifier",
            )
        resolved.append((item, qty, qualifier))
    return body, resolved

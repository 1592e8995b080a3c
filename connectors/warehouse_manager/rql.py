"""RQL, the filter language of Warehouse Manager's ``GET /orders``: the filters the hub sends.

Contract (docs/wire-protocols.md WMS-4):
- ``rql_value`` escapes one value the way the server reads it (URL-decoded a second time);
- ``scope_rql`` scopes an order query to one customer and facility; every order filter built
  here ends with it. It is a request, not a guarantee: the client still checks each order it
  reads (``connectors.warehouse_manager.answers.check_scope``);
- ``modified_since_rql`` (the modified-orders poll) and ``reference_rql`` (find ours by
  ``referenceNum``) are the two order filters; timestamps in them are facility-local text
  (``connectors.warehouse_manager.timestamps.filter_timestamp``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

__all__ = ["modified_since_rql", "reference_rql", "rql_value", "scope_rql"]


def rql_value(value: Any) -> str:
    """Escape one value for an RQL expression.

    The WMS URL-decodes RQL values a second time after the normal query-string decoding (so that
    ``;`` ``,`` ``=`` ``(`` ``)`` inside a value are not read as operators). The value is therefore
    percent-encoded here once; ``requests`` encodes the whole ``rql`` parameter again on the wire,
    which gives the double encoding the server expects.
    """
    return quote(str(value), safe="")


def scope_rql(customer_id: int, facility_id: int) -> str:
    """RQL scoping an order query to this customer and facility.

    On an order the identifiers live under ``readOnly``; the paths are the ones real clients
    send: airbytehq/airbyte airbyte-integrations/connectors/source-tplcentral/source_tplcentral/streams.py
    (class Orders: ``ReadOnly.CustomerIdentifier.Id==C``, ``ReadOnly.FacilityIdentifier.Id==F``).
    Property names are case-insensitive (the vendor's Rels/rql page, quoted by
    Njdonatelli/Extensiv-MCP-Server docs/research/api_reference_notes.md); the hub writes them
    in the HAL model's camelCase. A server that ignored the filter is caught by ``check_scope``.
    """
    return f"readOnly.customerIdentifier.id=={customer_id};readOnly.facilityIdentifier.id=={facility_id}"


def modified_since_rql(local_since: str, customer_id: int, facility_id: int) -> str:
    """Orders of this customer and facility modified at or after ``local_since`` (facility-local text)."""
    return f"readOnly.lastModifiedDate=ge={rql_value(local_since)};{scope_rql(customer_id, facility_id)}"


def reference_rql(reference_num: str, customer_id: int, facility_id: int) -> str:
    """Orders of this customer and facility whose ``referenceNum`` is ``reference_num``."""
    return f"referenceNum=={rql_value(reference_num)};{scope_rql(customer_id, facility_id)}"

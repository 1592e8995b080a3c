"""Enums of the Order Manager spec that values sent to Order Manager must belong to.

- `SHIPPING_CARRIERS`: `shipMethodExternal.shippingCarrier` (411 values), the carrier of an
  external shipment. The hub maps WMS carriers into it (`hub.mapping.carriers`); the sandbox
  refuses a shipment whose carrier is not in it, as Order Manager does.
- `DELIVERY_STATUSES`: `createExternalShipment.deliveryStatus`.

Loaded once, at import, from `specs/order-manager-enums.json`: a copy of these two enums of the
vendored spec `specs/order-manager-openapi.json` (source and update steps: `specs/README.md`).
`tests/test_carriers.py` checks the copy against the spec, so a newer spec shows every change.
"""

import json
from pathlib import Path

_ENUMS = json.loads((Path(__file__).resolve().parent / "specs" / "order-manager-enums.json").read_text())

SHIPPING_CARRIERS: frozenset[str] = frozenset(_ENUMS["shipMethodExternal.shippingCarrier"])
DELIVERY_STATUSES: frozenset[str] = frozenset(_ENUMS["createExternalShipment.deliveryStatus"])

"""WMS carrier names and SCAC codes -> Order Manager's `shippingCarrier` enum, for tracking.

`om_carrier(carrier, scac)` never fails: a name or code it cannot place gives OTHER_CARRIER, so
tracking is never held for want of a mapping (Integration Manager's SCAC mapping, with defaults).
Matching ignores case, spaces and punctuation. The enum is `connectors.om_enums.SHIPPING_CARRIERS`
(as published in the spec); `DEFAULTS` is the hub's own table of common WMS carrier names and codes.
"""

import re

from connectors.om_enums import SHIPPING_CARRIERS

FALLBACK = "OTHER_CARRIER"

# Common WMS carrier names and SCAC codes, normalised (upper case, letters and digits only).
DEFAULTS = {
    "UPS": "UPS",
    "UNITEDPARCELSERVICE": "UPS",
    "UPSN": "UPS",
    "UPSS": "UPS",
    "UPSGROUND": "UPS",
    "UPSMAILINNOVATIONS": "UPS_MAIL_INNOVATIONS",
    "UPSMI": "UPS_MAIL_INNOVATIONS",
    "FEDEX": "FEDEX",
    "FEDERALEXPRESS": "FEDEX",
    "FDX": "FEDEX",
    "FDXE": "FEDEX",
    "FDXG": "FEDEX",
    "FDEG": "FEDEX",
    "FEDEXGROUND": "FEDEX",
    "FEDEXEXPRESS": "FEDEX",
    "FEDEXHOMEDELIVERY": "FEDEX",
    "USPS": "USPS",
    "UNITEDSTATESPOSTALSERVICE": "USPS",
    "USPOSTALSERVICE": "USPS",
    "STAMPSCOM": "USPS",
    "DHL": "DHL",
    "DHLEXPRESS": "DHL_EXPRESS",
    "DHLE": "DHL_EXPRESS",
    "DHLECOMMERCE": "DHL_ECOMMERCE",
    "DHLGLOBALMAIL": "DHL_GLOBAL_MAIL",
    "ONTRAC": "ON_TRAC",
    "CANADAPOST": "CANADA_POST",
    "PUROLATOR": "PUROLATOR",
    "LASERSHIP": "LASERSHIP",
    "AMAZON": "AMAZON_SHIPPING",
    "AMAZONSHIPPING": "AMAZON_SHIPPING",
    "ROYALMAIL": "ROYAL_MAIL",
    "AUSTRALIAPOST": "AUSTRALIA_POST",
    "TNT": "TNT",
    "GLS": "GLS",
    "DPD": "DPD_UK",
    "OLDDOMINION": "OLD_DOMINION",
    "ODFL": "OLD_DOMINION",
    "ESTES": "ESTES_EXPRESS_LINES",
    "EXLA": "ESTES_EXPRESS_LINES",
    "SAIA": "SAIA",
    "XPO": "XPO_LOGISTICS",
    "XPOL": "XPOL",
    "ABF": "ABF",
    "YRC": "YRC",
    "RLCARRIERS": "RL_CARRIERS",
    "WILLCALL": "WILL_CALL",
    "CUSTOMERPICKUP": "CUSTOMER_PICK_UP",
    "VEHO": "VEHO",
    "ASENDIA": "ASENDIA",
}


def normalise(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", (text or "").upper())


def om_carrier(carrier: str = "", scac: str = "", overrides: dict[str, str] | None = None) -> str:
    """The Order Manager carrier for a WMS carrier name and/or SCAC code; OTHER_CARRIER when unknown.

    `overrides` (a connection's carrier mapping) are tried first, for the SCAC code then the name,
    so an operator's mapping of a carrier name wins over a shipped default for the SCAC code.
    """
    mine = {normalise(k): v for k, v in (overrides or {}).items() if v in SHIPPING_CARRIERS}
    for candidate in (scac, carrier):
        if normalise(candidate) in mine:
            return mine[normalise(candidate)]
    table = {**DEFAULTS, **mine}
    for candidate in (scac, carrier):
        key = normalise(candidate)
        if not key:
            continue
        if key in table and table[key] in SHIPPING_CARRIERS:
            return table[key]
        raw = (candidate or "").strip().upper().replace(" ", "_")
        if raw in SHIPPING_CARRIERS:
            return raw
    for candidate in (carrier,):
        # "UPS Ground", "FedEx 2Day": the first word often names the carrier.
        first = normalise((candidate or "").split(" ")[0])
        if first in table and table[first] in SHIPPING_CARRIERS:
            return table[first]
    return FALLBACK

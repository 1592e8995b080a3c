"""hub.mapping.carriers.om_carrier: WMS carrier names and SCAC codes -> Order Manager's carrier enum;
connectors.om_enums: the copy of the spec's enums both sides check values against."""

import json

import pytest

from connectors.om_enums import DELIVERY_STATUSES, SHIPPING_CARRIERS
from hub.mapping.carriers import DEFAULTS, FALLBACK, normalise, om_carrier
from tests.contract import SPEC_PATH


@pytest.mark.parametrize(
    "carrier, scac, expected",
    [
        ("UPS", "", "UPS"),
        ("United Parcel Service", "", "UPS"),
        ("UPS", "UPGN", "UPS"),  # an unknown SCAC falls through to the name
        ("UPS Ground", "", "UPS"),  # first word names the carrier
        ("FedEx", "FDEG", "FEDEX"),
        ("", "FDEG", "FEDEX"),
        ("Fed-Ex Ground", "", "FEDEX"),
        ("FedEx 2Day", "", "FEDEX"),
        ("usps", "", "USPS"),
        ("U.S.P.S.", "", "USPS"),
        ("DHL Express", "", "DHL_EXPRESS"),
        ("OnTrac", "", "ON_TRAC"),
        ("on trac", "", "ON_TRAC"),  # the enum value itself, spaces for underscores
        ("Canada Post", "", "CANADA_POST"),
        ("", "ODFL", "OLD_DOMINION"),
        ("Bob's Freight", "BOBF", FALLBACK),
        ("", "", FALLBACK),
        (None, None, FALLBACK),
    ],
)
def test_om_carrier(carrier, scac, expected):
    assert om_carrier(carrier, scac) == expected


def test_scac_wins_over_the_name():
    assert om_carrier("UPS", "FDEG") == "FEDEX"


def test_overrides_extend_and_replace_the_defaults():
    assert om_carrier("Bob's Freight", overrides={"bobs freight": "ESTES_EXPRESS_LINES"}) == "ESTES_EXPRESS_LINES"
    assert om_carrier("UPS", overrides={"ups": "UPS_FREIGHT"}) == "UPS_FREIGHT"


def test_an_override_outside_the_enum_is_never_sent():
    assert om_carrier("Bob's Freight", overrides={"bobs freight": "BOBS"}) == FALLBACK


def test_every_default_maps_into_the_enum():
    assert set(DEFAULTS.values()) <= SHIPPING_CARRIERS
    assert FALLBACK in SHIPPING_CARRIERS
    assert all(key == normalise(key) for key in DEFAULTS)


def test_enums_are_the_ones_in_the_spec():
    # connectors/specs/order-manager-enums.json is a copy: a newer spec with other values fails here.
    schemas = json.loads(SPEC_PATH.read_text())["components"]["schemas"]
    assert set(schemas["shipMethodExternal"]["properties"]["shippingCarrier"]["enum"]) == SHIPPING_CARRIERS
    assert set(schemas["createExternalShipment"]["properties"]["deliveryStatus"]["enum"]) == DELIVERY_STATUSES

"""ShipHero's wire ids in the sandbox: global ids, cursors, request ids (no database)."""

from connectors.shiphero.sandbox import ids


def test_a_global_id_is_base64_of_type_and_legacy_id_as_in_the_documented_webhook():
    assert ids.global_id("Shipment", 315518042) == "U2hpcG1lbnQ6MzE1NTE4MDQy"
    assert ids.legacy_id("Shipment", "U2hpcG1lbnQ6MzE1NTE4MDQy") == 315518042
    assert ids.global_id("Order", None) is None


def test_only_an_id_of_the_right_type_is_taken():
    order = ids.global_id("Order", 7)
    assert ids.legacy_id("Order", order) == 7
    assert ids.legacy_id("Shipment", order) is None
    for garbage in ("7", "", None, 7, "!!!", ids.global_id("Order", 7)[:-2]):
        assert ids.legacy_id("Order", garbage) is None


def test_cursors_round_trip_and_refuse_strangers():
    assert ids.offset(ids.cursor(41)) == 41
    assert ids.offset("bm90LWEtY3Vyc29y") is None  # "not-a-cursor"
    assert ids.offset("%%%") is None


def test_request_ids_are_24_hex_digits_and_differ():
    first, second = ids.request_id(), ids.request_id()
    assert len(first) == 24 and int(first, 16) >= 0 and first != second

"""connectors.redaction: secrets masked by key and by pattern, sizes capped, JSON-safe output."""

import datetime as dt
import decimal
import json

from connectors.redaction import MASK, excerpt, is_secret_key, redact, redact_text, strip_query

SECRET = "s3cr3t-value-42"


def test_secret_keys_are_masked_at_any_depth_without_mutating_the_input():
    payload = {
        "username": "alice",
        "password": SECRET,
        "nested": [{"access_token": SECRET, "clientSecret": SECRET, "x-api-key": SECRET, "sku": "A-1"}],
        "headers": {"Authorization": f"Bearer {SECRET}", "Cookie": SECRET, "tpl": SECRET},
    }
    original = json.dumps(payload)
    safe = redact(payload)
    assert json.dumps(payload) == original
    assert SECRET not in json.dumps(safe)
    assert safe["username"] == "alice" and safe["nested"][0]["sku"] == "A-1"
    assert safe["password"] == MASK and safe["headers"]["Authorization"] == MASK


def test_secret_fragments_inside_string_values_are_masked():
    safe = redact({"note": f"retry with Bearer {SECRET}", "url": f"https://x/cb?code=1&token={SECRET}"})
    assert SECRET not in json.dumps(safe)
    assert "Bearer ***" in safe["note"]


def test_output_is_json_safe():
    safe = redact(
        {
            "when": dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC),
            "qty": decimal.Decimal("1.50"),
            "raw": b"bytes",
            "nan": float("nan"),
            "set": {1},
            3: object(),
        }
    )
    json.dumps(safe)
    assert safe["when"] == "2024-05-01T12:00:00+00:00" and safe["qty"] == "1.50" and safe["raw"] == "bytes"
    assert safe["nan"] == "nan" and "3" in safe


def test_long_strings_lists_and_whole_payloads_are_capped():
    safe = redact({"text": "x" * 5000, "items": list(range(500))}, max_chars=100_000)
    assert len(safe["text"]) < 1100 and "more chars" in safe["text"]
    assert len(safe["items"]) == 101 and "400 more items" in safe["items"][-1]
    big = redact([{"sku": f"SKU-{i}", "qty": i} for i in range(90)], max_chars=500)
    assert big["truncated"] is True and len(big["excerpt"]) == 500


def test_excerpt_masks_raw_text_patterns_before_cutting():
    text = (
        f'{{"password": "{SECRET}", "token": 12345, "error": "bad"}} '
        f"grant_type=password&password={SECRET}&username=bob "
        f"Authorization: Bearer {SECRET}\n"
        f"'client_secret': '{SECRET}'"
    )
    out = excerpt(text, limit=10_000)
    assert SECRET not in out and "12345" not in out
    assert "username=bob" in out and '"error": "bad"' in out
    short = excerpt("a" * 1000 + f" password={SECRET}", limit=50)
    assert SECRET not in short and short.startswith("a" * 50) and "more chars" in short
    assert excerpt(None) == "" and excerpt(b'{"token": "abc"}') == '{"token": "***"}'


def test_redact_text_handles_json_escaped_inside_strings():
    nested = json.dumps({"body": json.dumps({"password": SECRET})})
    assert SECRET not in redact_text(nested)


def test_strip_query_and_key_detection():
    assert strip_query("https://h/p/a?token=x#frag") == "https://h/p/a"
    assert strip_query("/v1/orders?page=2") == "/v1/orders"
    assert strip_query("") == ""
    assert is_secret_key("Proxy-Authorization") and is_secret_key("api_key") and not is_secret_key("sku")


def test_text_without_any_trigger_word_is_returned_unchanged_and_triggers_are_still_masked():
    plain = "Ada Lovelace, 12 Analytical Ave, Springfield IL — SKU-1 x 2"
    assert redact_text(plain) is plain
    for secret in (
        '{"apiKey": "abc"}',
        "Authorization: Basic QWxhZGRpbjp",
        "x Bearer abc.def",
        "tpl=abc",
        "Cookie: a=b",
    ):
        assert MASK in redact_text(secret), secret

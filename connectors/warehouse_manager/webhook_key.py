"""The public key 3PL Warehouse Manager signs its webhooks with, and the check of one signature.

- `fetch_public_key(url, *, timeout, block_private_addresses) -> str`: GET the key URL
  (`https://secure-wms.com/events/webhook/key`, docs/wire-protocols.md WMS-W3); the answer is JSON
  `{"publicKey": "<PEM>", "retrievalDateISO": ...}`. Anything else (status, not JSON, no PEM RSA
  key) raises `WebhookKeyError` naming what was wrong: a wrong guess about the answer fails loudly.
- `verify(public_key_pem, body, signature_header) -> bool`: the `Signature` header is the base64 of
  an RSA-SHA256 signature (PKCS#1 v1.5) over the raw request body bytes (WMS-W2). False for a
  signature that is not base64, not of this key, or over other bytes; never raises for bad input.
"""

from __future__ import annotations

import base64
import binascii
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from urllib3.util.retry import Retry

from connectors.transport.body_cap import read_capped
from connectors.transport.session import hardened_session

MAX_KEY_ANSWER_BYTES = 64 * 1024


class WebhookKeyError(Exception):
    """The key URL did not give a usable RSA public key."""


def load_rsa_public_key(pem: str) -> rsa.RSAPublicKey:
    """The RSA public key in `pem`; raises WebhookKeyError for anything else."""
    try:
        key = load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise WebhookKeyError(f"not a PEM public key ({exc})") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise WebhookKeyError(f"not an RSA key ({type(key).__name__})")
    return key


def fetch_public_key(url: str, *, timeout: float = 2.0, block_private_addresses: bool = True) -> str:
    """The PEM key published at `url` (see the module docstring)."""
    session = hardened_session(
        timeout=(timeout, timeout),
        retry=Retry(total=0, raise_on_status=False),
        block_private_addresses=block_private_addresses,
        headers={"Accept": "application/json"},
    )
    try:
        response = session.get(url, stream=True)
        body = read_capped(response, max_bytes=MAX_KEY_ANSWER_BYTES, service="The WMS key URL", method="GET", path=url)
    except Exception as exc:  # network, refused address, oversized answer: all mean "no key now"
        raise WebhookKeyError(f"GET {url} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        session.close()
    if response.status_code != 200:
        raise WebhookKeyError(f"GET {url} answered HTTP {response.status_code}")
    try:
        answer = json.loads(body)
    except ValueError as exc:
        raise WebhookKeyError(f"GET {url} did not answer JSON") from exc
    pem = answer.get("publicKey") if isinstance(answer, dict) else None
    if not isinstance(pem, str):
        raise WebhookKeyError(f"GET {url} answered without a publicKey string")
    load_rsa_public_key(pem)
    return pem


def verify(public_key_pem: str, body: bytes, signature_header: str) -> bool:
    """Whether `signature_header` is a valid signature of `body` by the key (see the module docstring)."""
    try:
        signature = base64.b64decode(signature_header.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    key = load_rsa_public_key(public_key_pem)
    try:
        key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True

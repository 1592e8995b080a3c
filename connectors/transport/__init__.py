"""The shared HTTP layer every connector client sends its calls through, one role a module.

What it guarantees (the calls it carries and their evidence: docs/wire-protocols.md):

- every call has a timeout and goes through requests-hardened's session: no redirects, nothing
  from the environment, and with ``block_private_addresses`` no connection to private, loopback
  or link-local addresses, IPv6 forms of them included (``session``, ``connectors.ip_policy``);
- connect errors, and 500/502/503/504 for idempotent methods only, are retried with exponential
  backoff and jitter; 429 for every method after the wait the server asks for
  (``x-skubana-quota-retryAfter`` in ms or ``Retry-After``); a wait longer than
  ``max_rate_limit_wait`` is not slept but raised as ``RateLimited`` with ``retry_after`` (``retry``);
- optional thread-safe pacing shared by every thread using the client (``pacing``);
- bodies are read as a stream, at most ``max_response_bytes`` within ``max_body_seconds``
  (``body_cap``), into an ``Answer`` (``answer``);
- every failure is one of the typed errors of ``connectors.errors`` (``errors_mapping``);
- JSON is read strictly, repeated keys flagged (``json_body``);
- ``on_call`` receives one redacted ``CallRecord`` per attempt (``records``);
- one OAuth2 bearer-token helper for the services' tokens: fetched, cached until shortly before
  it expires, retried once on a 401 (``oauth``);
- ``HttpClient`` ties them together (``client``).
"""

from connectors.transport.answer import Answer
from connectors.transport.body_cap import MAX_BODY_SECONDS, MAX_RESPONSE_BYTES, format_size
from connectors.transport.client import HttpClient
from connectors.transport.json_body import JsonObject, duplicate_keys_in, parse_json
from connectors.transport.oauth import BearerToken, authorization_code_grant, basic_authorization
from connectors.transport.pacing import RatePacer
from connectors.transport.records import CallRecord
from connectors.transport.retry import HubRetry, retry_after_from_headers

__all__ = [
    "MAX_BODY_SECONDS",
    "MAX_RESPONSE_BYTES",
    "Answer",
    "BearerToken",
    "CallRecord",
    "HttpClient",
    "HubRetry",
    "JsonObject",
    "RatePacer",
    "authorization_code_grant",
    "basic_authorization",
    "duplicate_keys_in",
    "format_size",
    "parse_json",
    "retry_after_from_headers",
]

"""Helpers for tests that run the jobs against the sandbox over a real socket (pytest-django live_server)."""

import io
import json

from django.core.management import call_command

from connectors.sandbox.models import OmAccount, WmsAccount
from tenants import sandbox_accounts
from tenants.models import OrderManagerConnection


def sandbox_tenant(live_server, slug: str, *, orders: int = 0, skus: int = 0, seed: int = 1) -> OrderManagerConnection:
    """A tenant onboarded against the live sandbox, optionally seeded."""
    call_command("sandbox", "tenant", slug, "--base-url", live_server.url, stdout=io.StringIO())
    if orders or skus:
        call_command(
            "sandbox",
            "seed",
            "--tenant",
            slug,
            "--orders",
            str(orders),
            "--skus",
            str(skus),
            "--seed",
            str(seed),
            stdout=io.StringIO(),
        )
    return OrderManagerConnection.objects.select_related("warehouse__tenant").get(warehouse__tenant__slug=slug)


def sandbox(*args: str) -> str:
    out = io.StringIO()
    call_command("sandbox", *args, stdout=out)
    return out.getvalue()


def status(slug: str) -> dict:
    return json.loads(sandbox("status", "--tenant", slug, "--json"))


def accounts(slug: str) -> tuple[OmAccount, WmsAccount]:
    """The tenant's sandbox accounts, found from its connection (as the commands find them)."""
    found = sandbox_accounts.for_slug(slug)
    return found.om, found.wms


TEST_APP_KEY, TEST_APP_SECRET, TEST_REDIRECT = (
    "sandbox-test-app",
    "sandbox-test-secret",
    "https://hub.example.com/om/connect/callback",
)


def om_install_token(client, username: str, password: str, *, base: str = "/sandbox/order-manager"):
    """Install a test app for the sandbox user through the install page, exchange the code; the token response."""
    from urllib.parse import parse_qs, urlencode, urlsplit

    from connectors.sandbox.control import account_setup

    account_setup.ensure_om_app(TEST_APP_KEY, TEST_APP_SECRET, redirect_uris=[TEST_REDIRECT])
    query = urlencode(
        {
            "client_id": TEST_APP_KEY,
            "redirect_uri": TEST_REDIRECT,
            "response_type": "code",
            "scope": "read_orders",
            "state": "s",
        }
    )
    approved = client.post(f"{base}/oauth/authorize?{query}", {"username": username, "password": password})
    if approved.status_code != 302:
        return approved
    code = parse_qs(urlsplit(approved["Location"]).query)["code"][0]
    return client.post(
        f"{base}/oauth/token",
        {"grant_type": "authorization_code", "code": code, "redirect_uri": TEST_REDIRECT},
        HTTP_AUTHORIZATION=basic(TEST_APP_KEY, TEST_APP_SECRET),
    )


def basic(key: str, secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()

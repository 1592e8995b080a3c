"""Helpers for tests that run the jobs against the sandbox over a real socket (pytest-django live_server)."""
import io
import json

from django.core.management import call_command

from connectors.sandbox.models import OmAccount, WmsAccount
from hub.management.commands.sandbox import om_username, wms_client_id
from tenants.models import OrderManagerConnection


def sandbox_tenant(live_server, slug: str, *, orders: int = 0, skus: int = 0, seed: int = 1) -> OrderManagerConnection:
    """A tenant onboarded against the live sandbox, optionally seeded."""
    call_command("sandbox", "tenant", slug, "--base-url", live_server.url, stdout=io.StringIO())
    if orders or skus:
        call_command("sandbox", "seed", "--tenant", slug, "--orders", str(orders), "--skus", str(skus),
                     "--seed", str(seed), stdout=io.StringIO())
    return OrderManagerConnection.objects.select_related("warehouse__tenant").get(warehouse__tenant__slug=slug)


def sandbox(*args: str) -> str:
    out = io.StringIO()
    call_command("sandbox", *args, stdout=out)
    return out.getvalue()


def status(slug: str) -> dict:
    return json.loads(sandbox("status", "--tenant", slug, "--json"))


def accounts(slug: str) -> tuple[OmAccount, WmsAccount]:
    return OmAccount.objects.get(username=om_username(slug)), WmsAccount.objects.get(client_id=wms_client_id(slug))

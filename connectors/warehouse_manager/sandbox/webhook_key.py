"""Sandbox `GET /events/webhook/key`: the public key the sandbox WMS signs its webhooks with (WMS-W3).

No authentication, as the real key URL: the key is public. Answers `{publicKey, retrievalDateISO}`.
"""

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from connectors.sandbox import webhook_outbox


@require_GET
def webhook_key(request):
    return JsonResponse(webhook_outbox.public_key_answer())

"""WMS webhooks (push) beside polling: a per-warehouse endpoint that checks, counts and queues events.

- `views.receive`: the HTTP endpoint (`/webhooks/wms/<token>/`): cap, signature, replay, answer fast.
- `payload`: what an event must carry; `keys`: which public key verifies an endpoint's events.
- `tasks.process_delivery`: the queued work of one accepted event.
- `wake`: make a connection's job run soon through the same lease as the dispatcher and Run now.
- `counts`: accepted and refused requests per endpoint and reason (admin, `/metrics`).
Polling stays on its schedule for every tenant: webhooks only make a run come sooner.
"""

"""Alerts: problems of a connection that its tenant's alert contacts must hear about, once.

One module a role, in the order a problem goes through them:

- `findings`: what is wrong now, one `Finding` per problem and cause (read only).
- `lifecycle`: `evaluate` / `evaluate_all` open an `Alert` for each new finding, keep those still
  found and clear those whose cause is gone.
- `sending`: `send_due` e-mails each opening and clearing once, at once or in hourly / daily
  digests; `message` words the e-mail.
- `receivers`: after every run (the runner's `run_finished` signal), re-evaluate its connection
  and send at once for "immediate" tenants; never raises.

`hub.tasks.alerts_tick` runs `lifecycle.evaluate_all` then `sending.send_due` on its schedule.
"""

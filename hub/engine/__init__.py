"""The engine every job runs on: one run of one job for one connection, and when it is due.

- `runner`: lease, audit row, the job's body, the bookkeeping after; sends `signals.run_finished`.
- `context`: `RunContext`, what a job's body gets; `JobRefused`.
- `eligibility`: the one rule of "may this job run" (and its filter form for the dispatcher).
- `schedule`, `schedule_signals`: due times, recomputed when settings change.
- `dispatcher`, `leases`: claim due jobs with one conditional UPDATE, lease renewal and heartbeat.
- `circuit`: the per-connection circuit breaker; `logs`: run fields on every log line;
  `batching`: `chunked`.
- `job_bodies`: where the runner finds each job's body, installed by `hub.jobs.registry`.
The engine imports no job and nothing of ops or admin: the jobs import the engine, the alerts
listen to `run_finished`.
"""

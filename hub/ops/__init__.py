"""Operations around the jobs: `alerts` (findings, lifecycle, sending), `metrics` (/metrics),
`health` (/health and the cluster heartbeat) and `retention` (pruning old audit rows).
"""

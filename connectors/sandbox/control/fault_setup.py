"""Setting and reading the fault injection of one sandbox account (either service).

`configure_faults` validates and stores the settings (a `FaultConfig` row) and resets this process's
token buckets and fault RNGs (`..faults.reset`), so the new settings start from a full bucket and
their seed; `fault_settings` reads them back as a dict, defaults for an account with no row.
`FAULT_FIELDS` are the settings a caller may give. Answer times (`..latency`) are given either
whole (``latency={group: [ms, jitter_ms]}``) or as one time for several groups (``latency_ms``,
``jitter_ms``, ``latency_groups``: by default every group of the account's service).
"""

from __future__ import annotations

from .. import faults, latency
from ..models import FaultConfig, OmAccount, ShipHeroAccount, WmsAccount

FAULT_FIELDS = (
    "rate_429",
    "rate_500",
    "timeout_rate",
    "timeout_seconds",
    "malformed_rate",
    "quota_per_second",
    "retry_after_seconds",
    "apply_to_token_endpoint",
    "latency",
    "seed",
)
LATENCY_GROUPS = latency.ALL_GROUPS  # the endpoint groups of either service, by name


def check_latency_groups(side: str, groups) -> None:
    """ValueError when none of `groups` is a group of `side` ("om", "wms", "shiphero" or "both"): a request
    such as `--side om --latency-group create` would change nothing."""
    sides = ("om", "wms") if side == "both" else (side,)
    if groups and not any(set(groups) & set(latency.GROUPS[s]) for s in sides):
        names = "; ".join(f"{s}: {', '.join(latency.GROUPS[s])}" for s in sides)
        raise ValueError(f"No endpoint group {', '.join(groups)} on the chosen side ({names})")


def configure_faults(
    *,
    om_account: OmAccount | None = None,
    wms_account: WmsAccount | None = None,
    shiphero_account: ShipHeroAccount | None = None,
    clear: bool = False,
    latency_ms: int | None = None,
    jitter_ms: int | None = None,
    latency_groups: tuple[str, ...] | list[str] | None = None,
    **values,
) -> FaultConfig:
    """Set (only) the given fault fields of one account; `clear` first resets every field to its default.

    `latency_ms` (with `jitter_ms`, default 0) sets that answer time for `latency_groups` of the
    account's service (groups of the other service are skipped), or for all of them; the other
    groups keep theirs; 0 turns a group's latency off. Raises ValueError for an unknown field, a
    rate outside [0, 1], a negative quota, an answer time `latency.validate_latency` refuses,
    `jitter_ms` or `latency_groups` without `latency_ms`, a group of neither service, or not exactly
    one account. A quota of 0 means no quota."""
    unknown = set(values) - set(FAULT_FIELDS)
    if unknown:
        raise ValueError(f"Unknown fault setting(s): {', '.join(sorted(unknown))}")
    if sum(a is not None for a in (om_account, wms_account, shiphero_account)) != 1:
        raise ValueError("Give exactly one of om_account, wms_account and shiphero_account")
    for name in ("rate_429", "rate_500", "timeout_rate", "malformed_rate"):
        if values.get(name) is not None and not 0.0 <= values[name] <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1")
    if values.get("quota_per_second") is not None and values["quota_per_second"] < 0:
        raise ValueError("quota_per_second must not be negative")
    if latency_ms is None and (jitter_ms is not None or latency_groups):
        raise ValueError("a jitter or latency groups need a latency (latency_ms)")
    unknown_groups = set(latency_groups or ()) - set(latency.ALL_GROUPS)
    if unknown_groups:
        raise ValueError(f"Unknown endpoint group(s): {', '.join(sorted(unknown_groups))}")
    side = "om" if om_account is not None else ("wms" if wms_account is not None else "shiphero")
    if values.get("latency") is not None:
        values["latency"] = latency.validate_latency(side, values["latency"])
    config, _ = FaultConfig.objects.get_or_create(
        om_account=om_account, wms_account=wms_account, shiphero_account=shiphero_account
    )
    if clear:
        defaults = FaultConfig()
        for name in FAULT_FIELDS:
            setattr(config, name, getattr(defaults, name))
    for name, value in values.items():
        if value is not None:
            setattr(config, name, value)
    if values.get("quota_per_second") == 0:
        config.quota_per_second = None
    if latency_ms is not None:
        groups = [g for g in latency.GROUPS[side] if not latency_groups or g in latency_groups]
        merged = {**config.latency, **{group: [latency_ms, jitter_ms or 0] for group in groups}}
        config.latency = latency.validate_latency(side, merged)
    config.save()
    faults.reset()
    return config


def fault_settings(config: FaultConfig | None) -> dict:
    """The fault settings of `config` by field name; the defaults when there is no config row."""
    if config is None:
        return {name: getattr(FaultConfig(), name) for name in FAULT_FIELDS}
    return {name: getattr(config, name) for name in FAULT_FIELDS}

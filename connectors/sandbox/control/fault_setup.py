"""Setting and reading the fault injection of one sandbox account (either service).

`configure_faults` validates and stores the settings (a `FaultConfig` row) and resets this process's
token buckets and fault RNGs (`..faults.reset`), so the new settings start from a full bucket and
their seed; `fault_settings` reads them back as a dict, defaults for an account with no row.
`FAULT_FIELDS` are the settings a caller may give. Answer times (`..latency`) are given either
whole (``latency={group: [ms, jitter_ms]}``) or as one time for several groups (``latency_ms``,
``jitter_ms``, ``latency_groups``: by default every group of the account's service).

The discrepancy faults (`DISCREPANCY_FIELDS`, Order Manager accounts only; `..discrepancies`) are
set the same way; `injected(account)` counts what they did per kind, `injected_subjects(account,
kind)` names the orders (ids) or SKUs they hit, and `clear_injected(account)` forgets the log
(which also gives every order its `drop_order_reads` again). `clear=True` clears the log too.
"""

from __future__ import annotations

from django.db.models import Count

from .. import faults, latency
from ..models import FaultConfig, InjectedFault, OmAccount, ShipHeroAccount, WmsAccount

# The discrepancy faults: Order Manager only (`..discrepancies`).
DISCREPANCY_FIELDS = (
    "drop_order_rate",
    "drop_order_ids",
    "drop_order_reads",
    "export_mark_loss_rate",
    "tracking_drop_rate",
    "stock_drift_rate",
    "stock_drift_units",
)
RATE_FIELDS = (
    "rate_429",
    "rate_500",
    "timeout_rate",
    "malformed_rate",
    "drop_order_rate",
    "export_mark_loss_rate",
    "tracking_drop_rate",
    "stock_drift_rate",
)

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
    *DISCREPANCY_FIELDS,
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
    for name in RATE_FIELDS:
        if values.get(name) is not None and not 0.0 <= values[name] <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1")
    _check_discrepancy_values(values, om_account is not None)
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
        config.injected.all().delete()
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


def _check_discrepancy_values(values: dict, order_manager: bool) -> None:
    """ValueError for a discrepancy fault on a WMS account (they are Order Manager's), order ids
    that are not a list of integers, or a negative read count."""
    given = [name for name in DISCREPANCY_FIELDS if values.get(name) not in (None, [], 0, 0.0)]
    if given and not order_manager:
        raise ValueError(f"{', '.join(given)}: discrepancy faults are set on the Order Manager account only")
    ids = values.get("drop_order_ids")
    if ids is not None:
        if not isinstance(ids, list | tuple) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise ValueError("drop_order_ids must be a list of Order Manager order ids (integers)")
        values["drop_order_ids"] = sorted(set(ids))
    if values.get("drop_order_reads") is not None and values["drop_order_reads"] < 0:
        raise ValueError("drop_order_reads must not be negative")


def injected(account) -> dict[str, int]:
    """How many discrepancy faults of each kind (`InjectedFault.Kind`) the account's config injected."""
    counts = dict.fromkeys(InjectedFault.Kind.values, 0)
    counts.update(_injected(account).values_list("kind").annotate(n=Count("pk")).order_by())
    return counts


def injected_subjects(account, kind: str) -> list[str]:
    """The order ids (as text) or SKUs a fault of `kind` hit, oldest first, one entry per hit."""
    return list(_injected(account).filter(kind=kind).order_by("pk").values_list("subject", flat=True))


def clear_injected(account) -> int:
    """Forget the account's injected-faults log; how many entries went."""
    return _injected(account).delete()[0]


def _injected(account):
    field = "config__om_account" if isinstance(account, OmAccount) else "config__wms_account"
    return InjectedFault.objects.filter(**{field: account})

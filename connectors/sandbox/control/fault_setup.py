"""Setting and reading the fault injection of one sandbox account (either service).

`configure_faults` validates and stores the settings (a `FaultConfig` row) and resets this process's
token buckets and fault RNGs (`..faults.reset`), so the new settings start from a full bucket and
their seed; `fault_settings` reads them back as a dict, defaults for an account with no row.
`FAULT_FIELDS` are the settings a caller may give.
"""

from __future__ import annotations

from .. import faults
from ..models import FaultConfig, OmAccount, WmsAccount

FAULT_FIELDS = (
    "rate_429",
    "rate_500",
    "timeout_rate",
    "timeout_seconds",
    "malformed_rate",
    "quota_per_second",
    "retry_after_seconds",
    "apply_to_token_endpoint",
    "seed",
)


def configure_faults(
    *, om_account: OmAccount | None = None, wms_account: WmsAccount | None = None, clear: bool = False, **values
) -> FaultConfig:
    """Set (only) the given fault fields of one account; `clear` first resets every field to its default.

    Raises ValueError for an unknown field, a rate outside [0, 1], a negative quota, or not exactly
    one account. A quota of 0 means no quota."""
    unknown = set(values) - set(FAULT_FIELDS)
    if unknown:
        raise ValueError(f"Unknown fault setting(s): {', '.join(sorted(unknown))}")
    if (om_account is None) == (wms_account is None):
        raise ValueError("Give exactly one of om_account and wms_account")
    for name in ("rate_429", "rate_500", "timeout_rate", "malformed_rate"):
        if values.get(name) is not None and not 0.0 <= values[name] <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1")
    if values.get("quota_per_second") is not None and values["quota_per_second"] < 0:
        raise ValueError("quota_per_second must not be negative")
    config, _ = FaultConfig.objects.get_or_create(om_account=om_account, wms_account=wms_account)
    if clear:
        defaults = FaultConfig()
        for name in FAULT_FIELDS:
            setattr(config, name, getattr(defaults, name))
    for name, value in values.items():
        if value is not None:
            setattr(config, name, value)
    if values.get("quota_per_second") == 0:
        config.quota_per_second = None
    config.save()
    faults.reset()
    return config


def fault_settings(config: FaultConfig | None) -> dict:
    """The fault settings of `config` by field name; the defaults when there is no config row."""
    if config is None:
        return {name: getattr(FaultConfig(), name) for name in FAULT_FIELDS}
    return {name: getattr(config, name) for name in FAULT_FIELDS}

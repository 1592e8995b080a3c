"""The warehouse systems the hub can deliver to, by the key each tenant warehouse stores
(`tenants.Warehouse.wms_system`). Adding a system is one folder under `connectors/` with its
`WmsSystem`, its client and its sandbox, and one line here (docs/architecture.md).
"""

from __future__ import annotations

from connectors.shiphero.system import SYSTEM as SHIPHERO
from connectors.warehouse_manager.system import SYSTEM as THREEPL_WAREHOUSE_MANAGER
from connectors.wms.base import WmsSystem

SYSTEMS: dict[str, WmsSystem] = {system.key: system for system in (THREEPL_WAREHOUSE_MANAGER, SHIPHERO)}
DEFAULT = THREEPL_WAREHOUSE_MANAGER.key


def system_of(key: str) -> WmsSystem:
    """The system stored under `key`; an unknown key fails loudly (a row edited by hand, a removed system)."""
    try:
        return SYSTEMS[key]
    except KeyError:
        raise LookupError(f"Unknown warehouse system {key!r}; known: {', '.join(sorted(SYSTEMS))}") from None


def choices() -> list[tuple[str, str]]:
    return [(system.key, system.label) for system in SYSTEMS.values()]

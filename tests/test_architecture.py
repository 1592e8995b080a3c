"""The import direction and module sizes docs/architecture.md promises, read from the source (ast)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JOBS = {"order_download", "order_cancel_download", "shipment_confirmation", "inventory_sync", "reconciliation"}
MAX_LINES = 450  # "about 400": a module past this wants splitting by role


def modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def offending(package: str, forbidden: tuple[str, ...], skip=lambda path: False) -> list[str]:
    return sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(package)
        if not skip(path)
        for name in imported(path)
        if name.startswith(forbidden)
    )


def test_connectors_import_nothing_of_hub_or_tenants():
    assert offending("connectors", ("hub", "tenants")) == []


def test_tenants_import_nothing_of_hub():
    assert offending("tenants", ("hub",)) == []


def test_the_engine_imports_no_job_operation_or_admin():
    assert offending("hub/engine", ("hub.jobs", "hub.ops", "hub.admin", "hub.tasks")) == []


def test_no_job_imports_another_job_nor_the_admin_or_operations():
    def is_registry(path):
        return path.name == "registry.py"

    forbidden = tuple(f"hub.jobs.{job}" for job in JOBS) + ("hub.admin", "hub.ops", "hub.tasks")
    assert offending("hub/jobs", forbidden, skip=is_registry) == []


@pytest.mark.parametrize("package", ["hub", "tenants", "connectors"])
def test_no_module_is_far_over_four_hundred_lines(package):
    long = {str(p.relative_to(ROOT)): n for p in modules(package) if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}

""""Test connection" for the admin: authenticate, resolve, and report in plain words.

The connectors issue fills this in with real calls; the admin calls only these three functions.
"""


def test_order_manager(connection) -> dict:
    return {"ok": False, "error": "Test connection is not available yet."}


def test_warehouse(warehouse) -> dict:
    return {"ok": False, "error": "Test connection is not available yet."}


def format_report(report: dict) -> str:
    if not report:
        return "never tested"
    if not report.get("ok"):
        return f"failed: {report.get('error', 'unknown error')}"
    return "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in report.items() if k != "ok")

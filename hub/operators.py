"""How an operator is named in the audit trail (timeline steps, admin log, messages)."""


def operator_name(user) -> str:
    """How an operator is named in the audit trail: the login, plus the full name when set."""
    username = user.get_username()
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return f"{username} ({full_name})" if full_name and full_name != username else username

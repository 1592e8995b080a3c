"""Apps only superusers see in the admin, whatever permissions a staff user was given: the login
lockouts (axes), the task queue (django_q: task arguments of every tenant), the sandbox (a test
instrument) and django-otp's device lists (every user's second factors). Tenant staff see their tenants' data and nothing else (issue 17).

`restrict(site)` wraps the permission checks of every registered model admin of those apps, so
they leave the index and the sidebar and their pages answer 403 for anyone but a superuser.
"""

from __future__ import annotations

import functools

from django.apps import apps
from django.contrib.admin.exceptions import NotRegistered

SUPERUSER_ONLY_APPS = ("axes", "django_q", "sandbox", "otp_totp", "otp_static")
CHECKS = (
    "has_module_permission",
    "has_view_permission",
    "has_add_permission",
    "has_change_permission",
    "has_delete_permission",
)


def _superuser_only(check):
    @functools.wraps(check)
    def wrapped(request, *args, **kwargs):
        return bool(request.user.is_active and request.user.is_superuser) and check(request, *args, **kwargs)

    wrapped.superuser_only = True
    return wrapped


def restrict(site) -> None:
    """Idempotent: a check already wrapped is left as it is."""
    for label in SUPERUSER_ONLY_APPS:
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models():
            try:
                model_admin = site.get_model_admin(model)
            except NotRegistered:
                continue
            for name in CHECKS:
                check = getattr(model_admin, name)
                if not getattr(check, "superuser_only", False):
                    setattr(model_admin, name, _superuser_only(check))

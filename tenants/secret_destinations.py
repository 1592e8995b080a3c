"""Where stored secrets are sent, and who may change it.

A row's stored secrets (WMS client secret and TPL key, Order Manager access token)
travel to the hosts its URL fields name, and the admin never shows them. So changing the *origin*
(scheme, host, port) of such a URL decides who receives a secret the operator may not know. As a
browser asks again before it sends a saved password to a new site, the form then asks for every
stored secret that would travel there: left blank ("keep"), the change is refused with an error
on each such field ("You changed where the client secret is sent ...: enter the client secret
again"). A path change on the same origin needs nothing.

A superuser may change the origin without entering the secrets again: they run the hub and can
reach its settings, its database and its encryption keys anyway, so asking them proves nothing,
and moving a tenant to a vendor's new host must stay possible without the tenant's secrets. Some
URLs only a superuser may change (`superuser_only_urls`): they receive credentials the form cannot
ask for, such as the hub's own Order Manager app key and secret in the token exchange.

Every accepted change of origin goes on the admin history: one `LogEntry` per URL naming the old
and new origin, who made it and whether the secrets were entered again (never a secret), and the
same line on the `tenants.secret_destinations` logger.

- `SecretDestinationsFormMixin` for the ModelForms (`tenants.forms`, the onboarding forms included):
  `secret_destinations = {url_field: (secret_field, ...)}`; after `is_valid()`,
  `destination_changes` lists the accepted changes.
- `SecretDestinationsAdminMixin` for their ModelAdmins: lets superusers through and logs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> str:
    """`scheme://host[:port]` of `url`, lower-cased, the default port left out: where it is sent."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        return (url or "").strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    port_text = f":{port}" if port and port != DEFAULT_PORTS.get(scheme) else ""
    return f"{scheme}://{host}{port_text}"


@dataclass(frozen=True)
class DestinationChange:
    """One URL of a row now pointing at another origin, as accepted by the form."""

    url_label: str
    old: str
    new: str
    reentered: tuple[str, ...]  # labels of the stored secrets typed again
    kept: tuple[str, ...]  # labels of stored secrets kept without (superusers only)

    def message(self, user) -> str:
        """The history line: old and new origin, who, and what happened to the secrets."""
        if self.kept:
            secrets = f"by a superuser, stored {', '.join(self.kept)} kept without being entered again"
        elif self.reentered:
            secrets = f"{', '.join(self.reentered)} entered again"
        else:
            secrets = "no stored secret goes there"
        return f"Changed where stored secrets are sent: {self.url_label} from {self.old} to {self.new} by {user} ({secrets})."


class SecretDestinationsFormMixin:
    """Refuses a change of a URL's origin unless the stored secrets sent there are entered again.

    Declare `secret_destinations` (URL field -> the secret fields that travel to it, or to whom a
    token obtained with them is sent); names the model does not have are skipped, so the map can
    list a field that another version of the model drops. `may_redirect_secrets` is True on the
    form class the admin builds for a superuser.
    """

    secret_destinations: dict[str, tuple[str, ...]] = {}
    superuser_only_urls: dict[str, str] = {}  # URL field -> why only a superuser may change it
    may_redirect_secrets = False

    def clean(self):
        cleaned = super().clean()
        self.destination_changes: list[DestinationChange] = []
        stored = self._stored_row()
        if stored is None:
            return cleaned  # a new row stores no secret yet
        for url_field, secret_fields in self.secret_destinations.items():
            if url_field not in self.cleaned_data:  # not on this form, or invalid already
                continue
            old, new = origin(getattr(stored, url_field, "")), origin(self.cleaned_data[url_field])
            if old == new:
                continue
            self._check_destination(stored, url_field, secret_fields, old, new)
        return cleaned

    def _stored_row(self):
        if not (self.instance and self.instance.pk):
            return None
        return type(self.instance)._default_manager.filter(pk=self.instance.pk).first()

    def _label(self, name: str) -> str:
        return str(self.instance._meta.get_field(name).verbose_name)

    def _check_destination(self, stored, url_field, secret_fields, old, new) -> None:
        url_label = self._label(url_field)
        where = f"(from {old} to {new})"
        if url_field in self.superuser_only_urls and not self.may_redirect_secrets:
            self.add_error(
                url_field, f"Only a superuser can change the {url_label} {where}: {self.superuser_only_urls[url_field]}"
            )
            return
        reentered, kept, refused = [], [], False
        for name in secret_fields:
            if not any(f.name == name for f in stored._meta.fields) or not getattr(stored, name):
                continue  # no such field, or nothing stored: nothing of ours goes there
            label = self._label(name)
            if self.cleaned_data.get(name):
                reentered.append(label)
            elif self.may_redirect_secrets:
                kept.append(label)
            elif name in self.fields:
                self.add_error(name, f"You changed where the {label} is sent {where}: enter the {label} again.")
                refused = True
            else:
                self.add_error(
                    url_field,
                    f"You changed where the {label} is sent {where}, and it cannot be "
                    "entered on this page: ask a superuser to change this URL.",
                )
                refused = True
        if not refused:
            self.destination_changes.append(DestinationChange(url_label, old, new, tuple(reentered), tuple(kept)))


class SecretDestinationsAdminMixin:
    """For the ModelAdmin of a form with `SecretDestinationsFormMixin`: superusers may change a
    destination without entering the secrets again, and each accepted change is logged."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if request.user.is_superuser:
            form = type(form.__name__, (form,), {"may_redirect_secrets": True})
        return form

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        for moved in getattr(form, "destination_changes", ()):
            message = moved.message(request.user.get_username())
            self.log_change(request, obj, message)
            logger.warning("%s %s: %s", obj._meta.verbose_name, obj.pk, message)

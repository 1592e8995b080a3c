"""Admin forms: write-only secret fields and onboarding validation in plain words."""

from django import forms
from django.contrib import messages

from connectors.wms import systems as wms_systems

from .models import TIME_ZONE_CHOICES, OrderManagerConnection, Tenant, Warehouse
from .models.warehouse import DEFAULT_BASE_URLS, SYSTEM_FIELDS
from .secret_destinations import SecretDestinationsFormMixin
from .url_safety import validate_base_url

KEEP_HINT = "Stored encrypted. Leave blank to keep the current value."


class WriteOnlySecretsMixin:
    """Secret fields render empty (never the stored value) and a blank entry keeps the old one."""

    secret_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        editing = bool(self.instance and self.instance.pk)
        for name in self.secret_fields:
            if name not in self.fields:
                continue
            field = self.fields[name]
            field.widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            field.initial = ""
            # The instance's plaintext must not sit in `initial` either: it would mark the field
            # as changed on every save (a false "Changed password" in the admin history).
            self.initial.pop(name, None)
            if editing and getattr(self.instance, name):
                field.required = False
                field.help_text = KEEP_HINT
            elif editing:
                field.help_text = "Stored encrypted; not set yet."

    def _post_clean(self):
        # Put the stored value back before model validation when the field was left blank.
        if self.instance.pk:
            stored = type(self.instance).objects.filter(pk=self.instance.pk).first()
            for name in self.secret_fields:
                if name in self.cleaned_data and not self.cleaned_data[name] and stored is not None:
                    self.cleaned_data[name] = getattr(stored, name)
        super()._post_clean()


class SafeUrlsMixin:
    """Base URL fields are checked by `tenants.url_safety` (https in production, no credentials
    in the URL, no private addresses) and refused with the reason in plain words."""

    url_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.url_fields:
            if name in self.fields:
                self.fields[name].validators.append(validate_base_url)


# Fields every system's warehouse form shows; the rest are the chosen system's (`SYSTEM_FIELDS`).
COMMON_WAREHOUSE_FIELDS = (
    "tenant",
    "name",
    "wms_system",
    "wms_base_url",
    "send_concurrency",
    "wms_requests_per_second",
)
SYSTEM_PARAM = "wms_system"  # the query parameter that picks the system of an add or onboarding page


def warehouse_fields(system: str, fields) -> list[str]:
    """`fields` without those of the other systems (Integration Manager shows one destination's settings)."""
    other = {f for key, names in SYSTEM_FIELDS.items() if key != system for f in names}
    return [f for f in fields if f not in other or f in SYSTEM_FIELDS.get(system, ())]


def chosen_system(data, prefix: str | None, fallback: str) -> str:
    """The system a submission or a link (`?wms_system=`) picks, if it is one the hub knows; else `fallback`."""
    name = f"{prefix}-{SYSTEM_PARAM}" if prefix else SYSTEM_PARAM
    picked = (data or {}).get(name) or (data or {}).get(SYSTEM_PARAM)
    return picked if picked in wms_systems.SYSTEMS else fallback


class WarehouseForm(SecretDestinationsFormMixin, SafeUrlsMixin, WriteOnlySecretsMixin, forms.ModelForm):
    """One tenant warehouse: the common fields and those of its system only (`SYSTEM_FIELDS`).

    A saved row's system is fixed (shown, not editable). A new row's is the submitted one, else
    `requested_system` (the onboarding page's or the admin's `?wms_system=`), else the default; its
    base URL starts at that system's service."""

    secret_fields = ("client_secret", "tpl_key", "shiphero_refresh_token")
    url_fields = ("wms_base_url",)
    # The token request to the WMS carries the system's secrets (3PL: client secret in Basic, TPL
    # key in the body; ShipHero: the refresh token).
    secret_destinations = {"wms_base_url": ("client_secret", "tpl_key", "shiphero_refresh_token")}
    requested_system: str | None = None

    wms_system = forms.ChoiceField(
        label="Warehouse system",
        choices=wms_systems.choices,
        required=False,  # left out of a submission: the system the page was for (`self.system`)
        help_text="The WMS this warehouse runs: its credentials below, and only the jobs it supports are offered.",
    )

    class Meta:
        model = Warehouse
        fields = [
            "tenant",
            "name",
            "wms_system",
            "wms_base_url",
            "client_id",
            "client_secret",
            "user_login",
            "wms_login_kind",
            "tpl_key",
            "customer_id",
            "facility_id",
            "facility_time_zone",
            "shiphero_refresh_token",
            "shiphero_customer_account_id",
            "shiphero_warehouse_id",
            "send_concurrency",
            "wms_requests_per_second",
        ]

    def __init__(self, *args, system: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.requested_system = system or self.requested_system
        if self.instance.pk:
            self.system = self.instance.wms_system  # fixed once saved (see below)
        else:
            fallback = self.requested_system or self.instance.wms_system or wms_systems.DEFAULT
            self.system = chosen_system(self.data, self.prefix, fallback) if self.is_bound else fallback
        for name in set(self.fields) - set(warehouse_fields(self.system, self.fields)):
            del self.fields[name]
        self.secret_destinations = {
            url: tuple(f for f in secrets if f in self.fields) for url, secrets in self.secret_destinations.items()
        }
        if "wms_system" in self.fields and self.instance.pk:
            # Fixed once saved: the orders it sent are followed (shipments, cancels) in the system they
            # went to, and its mappings name that system's carriers.
            field = self.fields["wms_system"]
            field.disabled = True
            field.help_text = "Fixed once the warehouse exists: for another system, add another warehouse."
        elif "wms_system" in self.fields and not self.is_bound:
            self.initial["wms_system"] = self.system
        if not self.instance.pk and not self.is_bound and self.system in DEFAULT_BASE_URLS:
            self.initial["wms_base_url"] = DEFAULT_BASE_URLS[self.system]
        # Left out of a submission (an older form, a script): their defaults, as before they existed.
        for name in ("wms_login_kind", *self.PACE_FIELDS):
            if name in self.fields:
                self.fields[name].required = False

    PACE_FIELDS = ("send_concurrency", "wms_requests_per_second")

    def clean_wms_system(self):
        return self.cleaned_data.get("wms_system") or self.system

    def clean_wms_login_kind(self):
        return self.cleaned_data.get("wms_login_kind") or Warehouse._meta.get_field("wms_login_kind").default

    def clean(self):
        cleaned = super().clean()
        for name in self.PACE_FIELDS:
            if name in self.fields and cleaned.get(name) is None and name not in self.errors:
                cleaned[name] = Warehouse._meta.get_field(name).default
        return cleaned


class OrderManagerConnectionForm(SecretDestinationsFormMixin, SafeUrlsMixin, WriteOnlySecretsMixin, forms.ModelForm):
    secret_fields = ("access_token",)
    url_fields = ("base_url", "auth_base_url")
    # Every API call carries the access token (Bearer).
    secret_destinations = {"base_url": ("access_token",), "auth_base_url": ("access_token",)}
    superuser_only_urls = {
        "auth_base_url": "the token exchange there carries credentials this page cannot ask for again "
        "(the hub's own Order Manager app key and secret).",
    }

    class Meta:
        model = OrderManagerConnection
        fields = [
            "warehouse",
            "base_url",
            "auth_base_url",
            "access_token",
            "warehouse_name",
            "pickup_status",
            "start_from",
            "order_download_enabled",
            "cancel_download_enabled",
            "shipment_confirmation_enabled",
            "inventory_sync_enabled",
            "reconciliation_enabled",
            "order_download_interval",
            "cancel_download_interval",
            "shipment_confirmation_interval",
            "inventory_time",
            "inventory_times_per_day",
            "reconciliation_time",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "reconciliation_time" in self.fields:  # left out of a submission: its default (04:00)
            self.fields["reconciliation_time"].required = False

    def clean_reconciliation_time(self):
        value = self.cleaned_data.get("reconciliation_time")
        return value if value is not None else OrderManagerConnection._meta.get_field("reconciliation_time").default

    def warnings(self) -> list[str]:
        """Advice that does not block saving (shown as admin warnings)."""
        notes = []
        data = getattr(self, "cleaned_data", {})
        if data.get("inventory_sync_enabled") and (data.get("inventory_times_per_day") or 1) > 1:
            notes.append(
                "Inventory Sync runs more than once a day. If anything is put On Hold in Order Manager, "
                "syncing during the day causes small discrepancies: held orders are not at the warehouse yet, "
                "so the hub cannot see them to decrement inventory. Once a day, at the end of the day, is recommended."
            )
        return notes


def show_warnings(request, form) -> None:
    for note in getattr(form, "warnings", lambda: [])():
        messages.warning(request, note)


class OnboardTenantForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ["name", "slug", "time_zone", "active"]


class OnboardWarehouseForm(WarehouseForm):
    class Meta(WarehouseForm.Meta):
        fields = [f for f in WarehouseForm.Meta.fields if f != "tenant"]


class OnboardConnectionForm(OrderManagerConnectionForm):
    class Meta(OrderManagerConnectionForm.Meta):
        fields = [f for f in OrderManagerConnectionForm.Meta.fields if f != "warehouse"]


class ConnectionChangeForm(OrderManagerConnectionForm):
    """A connection's change page: also the tenant's time zone, beside the inventory time it governs.

    The inventory schedule is a local time of day in the tenant's zone, so the two are edited in
    one place (here); the admin saves a changed zone on the tenant, which reschedules every job of
    every connection of that tenant."""

    time_zone = forms.ChoiceField(
        choices=[("", "(unchanged)"), *TIME_ZONE_CHOICES],
        required=False,  # not posted: the tenant's zone stays as it is
        label="Time zone",
        help_text="The tenant's zone: inventory times are local times in it, and every time on this tenant's "
        "pages is shown in it. Shared by all the tenant's connections.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        warehouse = getattr(self.instance, "warehouse", None) if self.instance.warehouse_id else None
        self.fields["time_zone"].initial = warehouse.tenant.time_zone if warehouse else "America/New_York"

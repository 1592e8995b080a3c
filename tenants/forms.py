"""Admin forms: write-only secret fields and onboarding validation in plain words."""

from django import forms
from django.contrib import messages

from .models import TIME_ZONE_CHOICES, OrderManagerConnection, Tenant, Warehouse
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


class WarehouseForm(SecretDestinationsFormMixin, SafeUrlsMixin, WriteOnlySecretsMixin, forms.ModelForm):
    secret_fields = ("client_secret", "tpl_key")
    url_fields = ("wms_base_url",)
    # The token request to the WMS carries the client secret (Basic) and the TPL key (body).
    secret_destinations = {"wms_base_url": ("client_secret", "tpl_key")}

    class Meta:
        model = Warehouse
        fields = [
            "tenant",
            "name",
            "wms_base_url",
            "client_id",
            "client_secret",
            "user_login",
            "wms_login_kind",
            "tpl_key",
            "customer_id",
            "facility_id",
            "facility_time_zone",
            "send_concurrency",
            "wms_requests_per_second",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left out of a submission (an older form, a script): their defaults, as before they existed.
        for name in ("wms_login_kind", *self.PACE_FIELDS):
            if name in self.fields:
                self.fields[name].required = False

    PACE_FIELDS = ("send_concurrency", "wms_requests_per_second")

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
            "order_download_interval",
            "cancel_download_interval",
            "shipment_confirmation_interval",
            "inventory_time",
            "inventory_times_per_day",
        ]

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

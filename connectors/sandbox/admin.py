"""Admin pages for the sandbox (superusers only: tenant staff get no sandbox permissions).

Accounts are listed, not edited here (credentials are set by `manage.py sandbox tenant` or a
tenant's "Create sandbox accounts", both through `tenants.sandbox_onboarding`); fault injection and
answer times (`latency`, per endpoint group) can be tuned per account from the admin during a demo;
the model's `clean` validates the answer times for the account's service.
"""

from django.contrib import admin

from connectors.sandbox import faults
from connectors.sandbox.models import FaultConfig, OmAccount, ShipHeroAccount, WmsAccount


@admin.register(OmAccount)
class OmAccountAdmin(admin.ModelAdmin):
    list_display = ("username", "created_at")
    search_fields = ("username",)
    fields = ("username", "company_id", "created_at")
    readonly_fields = ("username", "company_id", "created_at")

    def has_add_permission(self, request):
        return False


@admin.register(WmsAccount)
class WmsAccountAdmin(admin.ModelAdmin):
    list_display = ("client_id", "customer_id", "facility_id", "facility_time_zone")
    search_fields = ("client_id",)
    fields = (
        "client_id",
        "user_login",
        "customer_id",
        "customer_name",
        "facility_id",
        "facility_name",
        "facility_time_zone",
    )
    readonly_fields = ("client_id",)

    def has_add_permission(self, request):
        return False


@admin.register(ShipHeroAccount)
class ShipHeroAccountAdmin(admin.ModelAdmin):
    list_display = ("key", "account_name", "credits_max", "credits_per_second", "created_at")
    search_fields = ("key",)
    fields = ("key", "account_name", "is_3pl", "credits_max", "credits_per_second", "token_lifetime_seconds")
    readonly_fields = ("key",)

    def has_add_permission(self, request):
        return False


@admin.register(FaultConfig)
class FaultConfigAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "rate_429",
        "rate_500",
        "timeout_rate",
        "malformed_rate",
        "quota_per_second",
        "answer_times",
        "updated_at",
    )
    raw_id_fields = ("om_account", "wms_account", "shiphero_account")

    @admin.display(description="answer times (ms)")
    def answer_times(self, obj):
        return ", ".join(f"{group} {ms}±{jitter}" for group, (ms, jitter) in sorted(obj.latency.items())) or "-"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        faults.reset()  # the new rates take effect (and the RNGs restart from the seed) at once

"""factory-boy factories for every model of the hub."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from hub.models import InventoryLine, Job, JobState, OrderEvent, OrderRecord, SyncRun
from tenants.models import OrderManagerConnection, Tenant, TenantMembership, Warehouse


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("correct horse battery staple")
    is_staff = True


def tenant_staff(tenant, username=None):
    """A staff user of `tenant` with the permissions tenant staff get (no auth, no django_q)."""
    user = UserFactory(username=username) if username else UserFactory()
    TenantMembership.objects.create(user=user, tenant=tenant)
    perms = Permission.objects.filter(content_type__app_label__in=["tenants", "hub"])
    user.user_permissions.set(perms)
    return user


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")
    time_zone = "America/New_York"


class TenantMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TenantMembership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Warehouse {n}")
    wms_base_url = "https://wms.example.com"
    client_id = factory.Sequence(lambda n: f"client-{n}")
    client_secret = factory.Sequence(lambda n: f"wms-secret-{n}")
    user_login = "integration"
    customer_id = 7
    facility_id = 3


class ShipHeroWarehouseFactory(WarehouseFactory):
    """A tenant warehouse on ShipHero: its three credential fields, none of 3PL Warehouse Manager's."""

    wms_system = "shiphero"
    wms_base_url = "https://shiphero.example.com"
    client_id = ""
    client_secret = ""
    user_login = ""
    customer_id = None
    facility_id = None
    shiphero_refresh_token = factory.Sequence(lambda n: f"shiphero-refresh-{n}")
    shiphero_customer_account_id = ""
    shiphero_warehouse_id = factory.Sequence(lambda n: f"V2FyZWhvdXNlOj{n}")


class OrderManagerConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderManagerConnection

    warehouse = factory.SubFactory(WarehouseFactory)
    base_url = "https://om.example.com"
    auth_base_url = "https://om.example.com"
    access_token = factory.Sequence(lambda n: f"om-token-{n}")
    token_source = "pasted"
    warehouse_name = "Main 3PL"
    om_warehouse_id = 1001
    om_warehouse_type = "THIRD_PARTY_LOGISTICS"
    activated_at = factory.LazyFunction(timezone.now)


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    connection = factory.SubFactory(OrderManagerConnectionFactory)
    job = Job.ORDER_DOWNLOAD
    status = SyncRun.Status.SUCCEEDED
    finished_at = factory.LazyFunction(timezone.now)


class OrderRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderRecord

    connection = factory.SubFactory(OrderManagerConnectionFactory)
    om_order_id = factory.Sequence(lambda n: 100000 + n)
    order_number = factory.Sequence(lambda n: f"SO-{n:06d}")
    sales_channel = "Shopify"
    ship_to = "Ada Lovelace, 1 Main St, Springfield, IL 62701, USA"
    lines = factory.LazyFunction(lambda: [{"sku": "SKU-1", "quantity": 1}])


class OrderEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderEvent

    order = factory.SubFactory(OrderRecordFactory)
    kind = OrderEvent.Kind.DOWNLOADED


class InventoryLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InventoryLine

    run = factory.SubFactory(SyncRunFactory, job=Job.INVENTORY_SYNC)
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    wms_available = 10
    om_locked = 0
    on_hand_written = 10
    result = InventoryLine.Result.UPDATED


class JobStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobState
        django_get_or_create = ("connection", "job")

    connection = factory.SubFactory(OrderManagerConnectionFactory)
    job = Job.ORDER_DOWNLOAD
    next_due_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(minutes=1))


class AlertContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tenants.AlertContact"

    tenant = factory.SubFactory(TenantFactory)
    email = factory.Sequence(lambda n: f"ops{n}@example.com")
    name = factory.Sequence(lambda n: f"Ops {n}")


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hub.Alert"

    connection = factory.SubFactory(OrderManagerConnectionFactory)
    cause = "connection_paused"
    key = ""
    message = "Scheduled runs are paused."
    link = "/admin/"


class ConnectionRulesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tenants.ConnectionRules"
        django_get_or_create = ("connection",)

    connection = factory.SubFactory(OrderManagerConnectionFactory)


class SkuAliasFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tenants.SkuAlias"

    connection = factory.SubFactory(OrderManagerConnectionFactory)
    om_sku = factory.Sequence(lambda n: f"OM-SKU-{n}")
    wms_sku = factory.Sequence(lambda n: f"WMS-SKU-{n}")


class ShipMethodMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tenants.ShipMethodMapping"

    connection = factory.SubFactory(OrderManagerConnectionFactory)
    ship_method = factory.Sequence(lambda n: f"UPS / Service {n}")
    wms_carrier = "UPS"
    wms_mode = "Ground"


class CarrierMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tenants.CarrierMapping"

    connection = factory.SubFactory(OrderManagerConnectionFactory)
    wms_carrier = factory.Sequence(lambda n: f"Carrier {n}")
    om_carrier = "OTHER_CARRIER"


class ItemFilterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tenants.ItemFilter"

    connection = factory.SubFactory(OrderManagerConnectionFactory)
    sku = factory.Sequence(lambda n: f"FILTERED-{n}")


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    """An authenticator app (django-otp), confirmed: the user is enrolled in two-factor sign-in."""

    class Meta:
        model = "otp_totp.TOTPDevice"

    user = factory.SubFactory(UserFactory)
    name = "Authenticator app"
    confirmed = True


class OmInstallStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tenants.OmInstallState"

    nonce = factory.Sequence(lambda n: f"nonce-{n}")
    connection = factory.SubFactory(OrderManagerConnectionFactory)
    user = factory.SubFactory(UserFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(minutes=10))


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """An enabled endpoint with a pasted key (tests sign with tests/webhook_signing.py's private key)."""

    class Meta:
        model = "hub.WebhookEndpoint"

    warehouse = factory.SubFactory(WarehouseFactory)
    enabled = True
    public_key_pem = factory.LazyFunction(lambda: __import__("tests.webhook_signing").webhook_signing.PUBLIC_PEM)


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hub.WebhookDelivery"

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    tpl_id = "{TPL-1}"
    wms_event_id = factory.Sequence(lambda n: str(5000 + n))
    event_type = "OrderConfirm"
    received_at = factory.LazyFunction(timezone.now)


class FindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hub.Finding"

    connection = factory.SubFactory(OrderManagerConnectionFactory)
    kind = "missed_order"
    subject = factory.Sequence(lambda n: str(900000 + n))
    om_value = "AWAITING_3PL_EXPORT"
    hub_value = "no record"

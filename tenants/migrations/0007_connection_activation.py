"""Connections are activated by an operator before their jobs run (issue 17, "safety first").

Connections that exist when this runs were already running their jobs: they are marked activated
at their creation time, so upgrading stops nothing. Only connections made from now on start inactive.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def activate_existing(apps, schema_editor):
    Connection = apps.get_model("tenants", "OrderManagerConnection")
    Connection.objects.filter(activated_at__isnull=True).update(activated_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0006_om_app_install"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="ordermanagerconnection",
            name="activated_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When an operator activated the connection; blank: its jobs do not run.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="ordermanagerconnection",
            name="activated_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(activate_existing, migrations.RunPython.noop),
    ]

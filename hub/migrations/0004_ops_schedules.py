"""Create the django-q2 Schedules of the operations work: "hub.alerts" every 5 minutes and
"hub.prune" daily.

Idempotent (matched by name, duplicates removed), like 0002 and `manage.py setup_schedules`.
The values are a frozen copy of hub.tasks.OPS_SCHEDULES: a migration must not change meaning
when application code changes later.
"""
from django.db import migrations

COMMON = {"repeats": -1, "args": None, "kwargs": None, "hook": None, "cluster": None}
SCHEDULES = {
    "hub.alerts": {**COMMON, "func": "hub.tasks.alerts_tick", "schedule_type": "I", "minutes": 5},
    "hub.prune": {**COMMON, "func": "hub.tasks.prune_tick", "schedule_type": "D", "minutes": None},
}


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    db = schema_editor.connection.alias
    for name, values in SCHEDULES.items():
        existing = list(Schedule.objects.using(db).filter(name=name).order_by("pk"))
        if existing:
            Schedule.objects.using(db).filter(pk__in=[s.pk for s in existing[1:]]).delete()
            Schedule.objects.using(db).filter(pk=existing[0].pk).update(**values)
        else:
            Schedule.objects.using(db).create(name=name, **values)


def remove_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("hub", "0003_alerts_heartbeat"),
    ]

    operations = [
        migrations.RunPython(create_schedules, remove_schedules),
    ]

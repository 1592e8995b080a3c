"""The one way the hub writes dates and times (Django's FORMAT_MODULE_PATH points here).

Every date-time is written the same way on every page, with its zone: 2026-12-07 18:05 EST. The
zone is the tenant's on tenant data (tenants.admin_times) and UTC elsewhere; ISO-like order so
that times sort and compare at a glance across tenants and in exports.
"""

DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
# What forms accept: the format they display (without the zone, which is the page's), then ISO.
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
TIME_INPUT_FORMATS = ["%H:%M", "%H:%M:%S"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
FIRST_DAY_OF_WEEK = 1  # Monday, as ISO 8601

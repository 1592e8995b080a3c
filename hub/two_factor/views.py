"""The admin's two-factor pages, for the signed-in user's own account (`hub.admin_site` mounts them
and lets only active staff in; a session that still owes its code is sent to the login first).

- `two_factor_view`, /admin/two-factor/ (`admin:two_factor`). Not enrolled: the enrolment page,
  with the authenticator app's secret as a QR code and as text and a form for a first code; a good
  code confirms the app, counts as this session's second factor and shows the recovery codes, this
  once. Enrolled: when the app was added and last used, how many recovery codes are left, and
  "New recovery codes".
- `recovery_codes_view` (POST), /admin/two-factor/recovery-codes/: new recovery codes, shown once;
  the earlier ones stop working.

Every page here is `never_cache` (the site's wrappers): a secret or a code never sits in a cache.
"""

from __future__ import annotations

import django_otp
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from hub.two_factor import devices, policy
from hub.two_factor.forms import EnrolForm

TEMPLATES = "admin/hub/two_factor/"


def _context(request, site, title: str, **extra) -> dict:
    return {
        **site.each_context(request),
        "title": title,
        # Only the enrolment page and "Log out" are open to this user until they enrol.
        "must_enrol": policy.access(request.user) is policy.Access.ENROL,
        **extra,
    }


def two_factor_view(request, site):
    user = request.user
    app = devices.app_device(user)
    if app is not None:
        return TemplateResponse(
            request,
            TEMPLATES + "status.html",
            _context(request, site, "Two-factor sign-in", app=app, codes_left=devices.recovery_codes_left(user)),
        )

    device = devices.pending_device(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = devices.confirm(device, form.cleaned_data["code"])
        if codes is not None:
            request.session.cycle_key()  # the session just gained a factor: a new session key for it
            device.refresh_from_db()
            django_otp.login(request, device)
            return _codes_page(request, site, codes, enrolled=True)
        form.add_error(
            "code",
            "That code is not the app's current one. Check that the phone's clock is right and enter the "
            "code it shows now (a new one every 30 seconds).",
        )
    return TemplateResponse(
        request,
        TEMPLATES + "enrol.html",
        _context(
            request,
            site,
            "Set up two-factor sign-in",
            form=form,
            qr_code=devices.qr_code_data_uri(device),
            secret=devices.secret_text(device),
            digits=device.digits,
            step=device.step,
        ),
    )


def recovery_codes_view(request, site):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not devices.is_enrolled(request.user):
        return HttpResponseRedirect(reverse("admin:two_factor", current_app=site.name))
    return _codes_page(request, site, devices.issue_recovery_codes(request.user), enrolled=False)


def _codes_page(request, site, codes: list[str], *, enrolled: bool):
    return TemplateResponse(
        request,
        TEMPLATES + "recovery_codes.html",
        _context(request, site, "Your recovery codes", codes=codes, enrolled=enrolled),
    )

"""The hub's admin site: Django's `AdminSite` with two-factor sign-in (`hub.two_factor`).

`hub.apps.HubAdminConfig` installs it as `admin.site`, so every registration stays as it is. What it
changes, and nothing else:
- `login_form`, `login_template`: the login asks for the authentication code as well
  (`hub.two_factor.forms.AdminLoginForm`);
- `has_permission`: Django's check (active staff) and two-factor sign-in leaving the user the whole
  admin (`policy.access`). An enrolled user whose session gave no code fails it, so every admin page
  sends them to the login, as it sends users without a session;
- `admin_view`: a user the policy requires to enrol who has not is sent to the enrolment page from
  every admin page instead, except "Log out";
- `get_urls`: the two-factor pages (`hub.two_factor.views`): the enrolment page is open to active
  staff who must enrol (a session that owes its code signs in first); new recovery codes need the
  whole admin.
"""

from __future__ import annotations

from functools import partial, update_wrapper

from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from hub.two_factor import policy, views
from hub.two_factor.forms import AdminLoginForm


class HubAdminSite(AdminSite):
    login_form = AdminLoginForm
    login_template = "admin/hub/two_factor/login.html"

    def has_permission(self, request):
        return super().has_permission(request) and policy.access(request.user) is policy.Access.FULL

    def admin_view(self, view, cacheable=False):
        checked = super().admin_view(view, cacheable)

        def inner(request, *args, **kwargs):
            if self._must_enrol(request):
                if request.path == reverse("admin:logout", current_app=self.name):
                    return view(request, *args, **kwargs)  # Django's LogoutView: CSRF-protected, never cached
                return HttpResponseRedirect(reverse("admin:two_factor", current_app=self.name))
            return checked(request, *args, **kwargs)

        return update_wrapper(inner, checked)

    def get_urls(self):
        return [
            path("two-factor/", self._two_factor_page(views.two_factor_view), name="two_factor"),
            path(
                "two-factor/recovery-codes/",
                self.admin_view(partial(views.recovery_codes_view, site=self)),
                name="two_factor_recovery_codes",
            ),
            *super().get_urls(),
        ]

    def _must_enrol(self, request) -> bool:
        return super().has_permission(request) and policy.access(request.user) is policy.Access.ENROL

    def _two_factor_page(self, view):
        def inner(request):
            if not super(HubAdminSite, self).has_permission(request) or (
                policy.access(request.user) is policy.Access.SIGN_IN
            ):
                return redirect_to_login(request.get_full_path(), reverse("admin:login", current_app=self.name))
            return view(request, self)

        return csrf_protect(never_cache(update_wrapper(inner, view)))

"""Run now from any page: the buttons, the POST that queues the run, the progress page and its JSON.

URLs, under the job state admin (`JobStateAdmin.get_urls`), each for one (connection, job) state:

- ``<state id>/run/`` (POST, `admin:hub_jobstate_run`): `hub.admin.actions.run_now` (the engine's
  eligibility rule, attention, the lease: a job already running is not started twice), then on to
  the progress page; refused, back to `next` with the reason. Needs the "change job state"
  permission (`has_operate_permission`); CSRF-protected like every admin view.
- ``<state id>/progress/?after=<run id>`` (`admin:hub_jobstate_progress`): where the run stands,
  updated in place by hub/static/hub/run_progress.js from
- ``<state id>/progress/status/?after=<run id>`` (`admin:hub_jobstate_progress_status`): the same
  as JSON (`hub.admin.run_progress.progress`). Both need the view permission.

Every view gets the state through the admin's `get_object`, which is tenant-scoped: another tenant's
job state is a 404 to staff. `next` (where the progress page links back to) must be on this site.

`render_buttons(request, connection, jobs)` draws the buttons (admin/hub/run_now_buttons.html)
for the pre-flight, inventory, connection and job state pages: one form per job, disabled with the
reason when the job may not run (`hub.engine.eligibility.blocked_reason`) or needs attention, and
nothing at all for a user who may not run jobs.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from hub.admin import actions as admin_actions
from hub.admin.run_progress import progress
from hub.engine import eligibility
from hub.models import Job, JobState

RUN_PERMISSION = "hub.change_jobstate"
POLL_INTERVAL_MS = 1500
# The client stops asking after this long and says so: a queued run's lease and a run's time budget
# together, plus a minute's margin; past that the run is stuck or lost, not slow.
POLL_LIMIT_SECONDS = settings.HUB_QUEUED_LEASE_SECONDS + settings.HUB_RUN_TIME_BUDGET + 60


def urls(model_admin) -> list:
    """The URL patterns of Run now, for `JobStateAdmin.get_urls`."""
    site = model_admin.admin_site

    def view(function):
        return site.admin_view(lambda request, object_id: function(model_admin, request, object_id))

    return [
        path("<path:object_id>/run/", view(run_view), name="hub_jobstate_run"),
        path("<path:object_id>/progress/", view(progress_view), name="hub_jobstate_progress"),
        path("<path:object_id>/progress/status/", view(status_view), name="hub_jobstate_progress_status"),
    ]


def _state_or_404(model_admin, request, object_id) -> JobState:
    state = model_admin.get_object(request, object_id)  # tenant-scoped: another tenant's is None
    if state is None:
        raise Http404("No such job state.")
    return state


def _next_url(request, state: JobState) -> str:
    """Where to go back to: `next` when it is a page of this site, else the job state's page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:hub_jobstate_change", args=[state.pk])


def progress_url(state: JobState, after: int, next_url: str) -> str:
    return reverse("admin:hub_jobstate_progress", args=[state.pk]) + "?" + urlencode({"after": after, "next": next_url})


def run_view(model_admin, request, object_id):
    """POST: queue a run of this job state's job, then show its progress (or go back, refused)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    state = _state_or_404(model_admin, request, object_id)
    if not model_admin.has_operate_permission(request, state):
        raise PermissionDenied
    next_url = _next_url(request, state)
    requested = admin_actions.run_now(request, state.connection, state.job)
    if requested.after is None:
        return HttpResponseRedirect(next_url)
    return HttpResponseRedirect(progress_url(state, requested.after, next_url))


def _after(request) -> int | None:
    value = request.GET.get("after", "")
    return int(value) if value.isdigit() else None


def _viewable_state(model_admin, request, object_id) -> JobState:
    state = _state_or_404(model_admin, request, object_id)
    if not model_admin.has_view_permission(request, state):
        raise PermissionDenied
    return state


def status_view(model_admin, request, object_id):
    """GET: `progress(state, after)` as JSON (never cached: `admin_view` adds never_cache)."""
    state = _viewable_state(model_admin, request, object_id)
    after = _after(request)
    if after is None:
        return HttpResponseBadRequest("after=<run id> is required.")
    return JsonResponse(progress(state, after))


def progress_view(model_admin, request, object_id):
    """GET: the progress page, drawn with where the run stands now; the script keeps it current."""
    state = _viewable_state(model_admin, request, object_id)
    after = _after(request)
    if after is None:
        return HttpResponseBadRequest("after=<run id> is required.")
    next_url = _next_url(request, state)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": state,
        "state": state,
        "title": f"Run now: {state}",
        "progress": progress(state, after),
        "status_url": reverse("admin:hub_jobstate_progress_status", args=[state.pk])
        + "?"
        + urlencode({"after": after}),
        "poll_interval_ms": POLL_INTERVAL_MS,
        "poll_limit_seconds": POLL_LIMIT_SECONDS,
        "next_url": next_url,
        "state_url": reverse("admin:hub_jobstate_change", args=[state.pk]),
    }
    return TemplateResponse(request, "admin/hub/run_progress.html", context)


# -- the buttons -----------------------------------------------------------------------------------


def _refusal(connection, job: Job, state: JobState | None) -> str:
    """Why Run now of `job` is refused before it is clicked, "" when it is offered."""
    reason = eligibility.blocked_reason(connection, job)
    if reason:
        return reason
    if state is None:
        return "This job has no state yet: save the connection."
    if state.attention:
        return f"Needs attention ({state.attention}): use “Clear attention” on the job state first."
    return ""


def buttons(request, connection, jobs=None) -> list[dict]:
    """One entry per job of `jobs` (default: all four): its label, form URL, refusal and whether it
    is running now; [] when the user may not run jobs."""
    if not request.user.has_perm(RUN_PERMISSION):
        return []
    jobs = [Job(job) for job in (jobs or Job)]
    states = {state.job: state for state in JobState.objects.filter(connection=connection, job__in=jobs)}
    now = timezone.now()
    entries = []
    for job in jobs:
        state = states.get(job)
        entries.append(
            {
                "job": job,
                "label": job.label,
                "url": reverse("admin:hub_jobstate_run", args=[state.pk]) if state else "",
                "refusal": _refusal(connection, job, state),
                "running": bool(state and state.lease_expires_at and state.lease_expires_at > now),
            }
        )
    return entries


def render_buttons(request, connection, jobs=None, *, single_label: str = "", reasons: bool = True) -> str:
    """The Run now buttons of `connection` as HTML (see `buttons`). `single_label` names a lone
    button; `reasons=False` leaves a refusal in the button's title only (a table whose next
    column says it already)."""
    entries = buttons(request, connection, jobs)
    if not entries:
        return ""
    refusals = {entry["refusal"] for entry in entries}
    shared = refusals.pop() if len(refusals) == 1 and len(entries) > 1 else ""
    context = {
        "entries": entries,
        "shared_refusal": shared if reasons else "",
        "reasons": reasons,
        "single_label": single_label if len(entries) == 1 else "",
        "next_url": request.get_full_path(),
    }
    return render_to_string("admin/hub/run_now_buttons.html", context, request=request)

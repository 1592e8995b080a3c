"""`{% run_now_buttons connection [job ...] [label="..."] [reasons=False] %}`: the Run now buttons of a
connection's jobs (all four when no job is named), drawn by `hub.admin.run_now.render_buttons` for the
requesting user."""

from __future__ import annotations

from django import template

from hub.admin.run_now import render_buttons

register = template.Library()


@register.simple_tag(takes_context=True)
def run_now_buttons(context, connection, *jobs, label: str = "", reasons: bool = True):
    return render_buttons(context["request"], connection, list(jobs) or None, single_label=label, reasons=reasons)

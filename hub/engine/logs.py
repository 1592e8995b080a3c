"""Structured logs: the run context on every line of a run, JSON or plain lines, secrets redacted.

- `bound(**fields)`: a context manager that adds fields (tenant, connection, job, run) to the
  current run context, a `contextvars.ContextVar`, restored on exit. `bind(**fields)` adds more
  inside it (the runner knows the run id only after it wrote the run row). Being a context
  variable, it follows the code that runs the job, including library and connector code that
  logs through its own loggers, and never leaks between threads or tasks.
- `RunContextFilter`: a logging Filter for HANDLERS (a logger's filter would not see records
  propagated from other loggers) that copies the run context onto each record as attributes
  `tenant`, `connection`, `job`, `run`, unless the record already has them
  (`LoggerAdapter(extra=...)`). Outside a run the fields are absent / None.
- `JsonFormatter`: one JSON object per line: time (UTC, ISO 8601), level, logger, message, the
  run fields present, and `exc_info` when there is a traceback.
- `PlainFormatter`: "time level logger message [tenant=… connection=… job=… run=…]" for the
  embedded default (`HUB_LOG_FORMAT=plain`).
Both formatters pass the message and the traceback through `connectors.redaction.redact_text`,
so a password, token or Authorization header that reaches a log line is masked.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import json
import logging
from types import MappingProxyType

from connectors.redaction import redact_text

FIELDS = ("tenant", "connection", "job", "run")

_context: contextvars.ContextVar[dict] = contextvars.ContextVar("hub_log_context", default=MappingProxyType({}))


def current() -> dict:
    """The run fields in force here (a copy)."""
    return dict(_context.get())


@contextlib.contextmanager
def bound(**fields):
    """Add `fields` to the run context for the duration of the block."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields) -> None:
    """Add `fields` to the run context until the enclosing `bound` block ends."""
    _context.set({**_context.get(), **fields})


class RunContextFilter(logging.Filter):
    """Copy the run context onto every record this handler emits (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        for name in FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, context.get(name))
        return True


def _run_fields(record: logging.LogRecord) -> dict:
    return {name: value for name in FIELDS if (value := getattr(record, name, None)) is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object per line, secrets redacted."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
            **_run_fields(record),
        }
        if record.exc_info:
            entry["exc_info"] = redact_text(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc_info"] = redact_text(record.exc_text)
        if record.stack_info:
            entry["stack_info"] = redact_text(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """Human-readable lines with the run fields appended, secrets redacted."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, style: str = "%", **kwargs):
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s %(message)s", datefmt, style, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        # Redacted before the fields are added: a masked header runs to the end of its line.
        text = redact_text(super().format(record))
        fields = _run_fields(record)
        if fields:
            suffix = " ".join(f"{name}={value}" for name, value in fields.items())
            head, sep, rest = text.partition("\n")  # the fields belong on the message line, not after a traceback
            text = f"{head} [{suffix}]{sep}{rest}"
        return text

"""Structured logging: one JSON object per line, fields by allow-list and secrets masked, so PII and secrets stay out."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

from actors.pii.guard import guard_registry
from cluster.secrets import mask_secrets

__all__ = ["JsonFormatter", "configure_logging", "log_event"]

WITHHELD = "log line withheld: PII"
"""The message of a log line that carried a value of a job's PII vault (the line itself is dropped)."""

# Only these structured fields are written; anything else passed in `extra` is dropped.
SAFE_FIELDS = frozenset(
    {"job_id", "project", "step", "attempt", "state", "from_state", "to_state", "provider", "outcome",
     "event_id", "event_type", "count", "duration_ms", "error_code", "trace_id", "artifact_kind", "version"}
)


class JsonFormatter(logging.Formatter):
    """Formats records as JSON lines with time, level, logger, message and allow-listed fields, secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one JSON line."""
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": mask_secrets(record.getMessage()),
        }
        fields = getattr(record, "fields", None) or {}
        out.update({k: mask_secrets(v) for k, v in fields.items() if k in SAFE_FIELDS})
        if record.exc_info and record.exc_info[0] is not None:
            # The type only: exception messages may quote user input.
            out["exc_type"] = record.exc_info[0].__name__
        if guard_registry().find_any(out) is not None:  # fail closed: a vault value never reaches a log
            out = {key: out[key] for key in ("ts", "level", "logger")}
            out["msg"] = WITHHELD
        return json.dumps(out, default=str)


def configure_logging(level: str = "INFO", *, stream: Any = None) -> None:
    """Route the `mka` loggers to JSON lines on stderr (idempotent)."""
    logger = logging.getLogger("mka")
    logger.setLevel(level.upper())
    logger.propagate = False
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)


def log_event(logger: logging.Logger, msg: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log a constant message with structured, allow-listed fields."""
    logger.log(level, msg, extra={"fields": fields})

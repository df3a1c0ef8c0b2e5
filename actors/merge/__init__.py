"""The merge agent: combines the providers' answers claim by claim against the evidence."""

from __future__ import annotations

from actors.merge.core import merge_answers

__all__ = ["merge_answers"]

"""Token prices and cost arithmetic: what one model call cost, and an upper estimate before asking."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Price", "estimate_tokens"]

_CHARS_PER_TOKEN = 4  # a common rule of thumb for English text; estimates only, never billing


@dataclass(frozen=True)
class Price:
    """USD per 1k input and per 1k output tokens of one model.

    Example:
        >>> Price(input_per_1k=0.001, output_per_1k=0.002).cost(input_tokens=1000, output_tokens=500)
        0.002
    """

    input_per_1k: float = 0.0
    output_per_1k: float = 0.0

    def cost(self, *, input_tokens: int, output_tokens: int) -> float:
        """USD for a call with these token counts."""
        return round(input_tokens * self.input_per_1k / 1000 + output_tokens * self.output_per_1k / 1000, 8)

    @property
    def free(self) -> bool:
        """True when calls cost nothing (stubs, local models)."""
        return self.input_per_1k == 0 and self.output_per_1k == 0


def estimate_tokens(text: str) -> int:
    """Rough token count of a text (about four characters a token, rounded up)."""
    return math.ceil(len(text) / _CHARS_PER_TOKEN)

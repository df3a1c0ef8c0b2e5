"""Re-identification for readers allowed to see PII: placeholders back to values, never for egress.

Only the merge result and report texts shown to a reader are re-identified, after the merge,
and only with `allow_pii=True` (a flag for now; RBAC decides later). Whatever is sent out (LLM
requests, Figma, events, logs, spans) still passes the egress guard, which blocks vault values.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from actors.pii.keys import Keyring
from actors.pii.vault import Vault

__all__ = ["load_job_vault", "reveal", "reveal_model"]

M = TypeVar("M", bound=BaseModel)


def reveal(text: str, vault: Vault, *, allow_pii: bool) -> str:
    """Return `text` with placeholders replaced by the original values when `allow_pii`, else unchanged.

    Example:
        >>> vault = Vault(); _ = vault.placeholder_for("Maria Keller", "PERSON")
        >>> reveal("Ask <PERSON_1>", vault, allow_pii=False), reveal("Ask <PERSON_1>", vault, allow_pii=True)
        ('Ask <PERSON_1>', 'Ask Maria Keller')
    """
    return vault.reidentify(text) if allow_pii else text


def reveal_model(model: M, vault: Vault, *, allow_pii: bool) -> M:
    """Re-identify every string of a model (e.g. a `MergeResult`) when `allow_pii`; a new copy."""
    if not allow_pii:
        return model
    return type(model).model_validate(_walk(model.model_dump(mode="json"), vault))


def load_job_vault(job: Any, *, objects: Any, keyring: Keyring) -> Vault:
    """Open a job's stored vault (`job` has `.project` and `.id`; an empty vault when the job has none)."""
    from actors.object_store import VAULT_NAME, find_job_object

    key = find_job_object(objects, job.project, job.id, VAULT_NAME)
    return Vault.decrypt(objects.get(key), keyring, job.id) if key else Vault()


def _walk(value: Any, vault: Vault) -> Any:
    if isinstance(value, str):
        return vault.reidentify(value)
    if isinstance(value, list):
        return [_walk(v, vault) for v in value]
    if isinstance(value, dict):
        return {k: _walk(v, vault) for k, v in value.items()}
    return value

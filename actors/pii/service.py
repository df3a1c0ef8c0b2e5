"""The PII role over envelopes: pseudonymize a job's brief or evidence with its vault, which travels encrypted.

The Ray actor (`cluster.ray_actors.PiiActor`) and the in-process agents both serve this one class.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from actors.pii.agent import PiiAgent
from actors.pii.keys import Keyring
from actors.pii.vault import Vault
from schemas import AgentRequest, Brief, Evidence

if TYPE_CHECKING:
    from actors.orchestrator.ports import CollectOutput, RedactOutput
    from actors.pii.guard import GuardRegistry

__all__ = ["PiiService"]


class PiiService:
    """Opens the job's vault, pseudonymizes, seals the vault again; with `guards`, this process's egress learns it."""

    def __init__(self, agent: PiiAgent, keyring: Keyring, *, guards: GuardRegistry | None = None) -> None:
        self.agent, self.keyring, self.guards = agent, keyring, guards

    def _open(self, job_id: str, blob: bytes | None) -> Vault:
        return Vault.decrypt(blob, self.keyring, job_id) if blob else Vault()

    def _seal(self, job_id: str, vault: Vault) -> bytes:
        if self.guards is not None:  # this worker's logs and spans are checked against the job's values too
            from actors.pii.guard import EgressGuard

            self.guards.register(job_id, EgressGuard.from_vault(vault))
        return vault.encrypt(self.keyring, job_id)

    def redact_brief(self, envelope: AgentRequest[Brief], vault: bytes | None) -> tuple[RedactOutput, bytes]:
        """Pseudonymize the brief's free text; return it with the sealed vault."""
        from actors.orchestrator.ports import RedactOutput

        v = self._open(envelope.job_id, vault)
        brief = self.agent.redact_brief(envelope.payload, v)
        return RedactOutput(brief=brief, entities=_counts(v)), self._seal(envelope.job_id, v)

    def redact_evidence(
        self, envelope: AgentRequest[list[Evidence]], vault: bytes, allow: list[str]
    ) -> tuple[CollectOutput, bytes]:
        """Pseudonymize evidence text (the brief's product and competitors kept); return it with the sealed vault."""
        from actors.orchestrator.ports import CollectOutput

        v = self._open(envelope.job_id, vault)
        items = self.agent.redact_evidence(envelope.payload, v, allow=allow)
        return CollectOutput(evidence=items, entities=_counts(v)), self._seal(envelope.job_id, v)

    def scan_values(self, texts: list[str]) -> int:
        """Count PII entities in texts (operators' spot check)."""
        return sum(len(self.agent.scan(t)) for t in texts)


def _counts(vault: Vault) -> dict[str, Any]:
    return dict(Counter(vault.placeholders().values()))

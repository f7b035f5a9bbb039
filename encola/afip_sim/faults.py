"""Fault injection state, changed at run time through `POST /_sim/faults`."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class FaultState:
    """`down`: every WSFEv1 call answers HTTP 503, like AFIP's IIS when the service is down.
    `latency_ms`: added to every answer. `drop_responses`: the next N FECAESolicitar are
    processed and recorded, then the connection is closed without a byte of answer.
    `reject_next`: the next N comprobantes that pass every rule are rejected anyway."""

    down: bool = False
    latency_ms: int = 0
    drop_responses: int = 0
    reject_next: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    def update(self, changes: dict) -> None:
        """Apply the fields present in `changes`; ValueError for unknown or ill-typed ones."""
        unknown = set(changes) - set(asdict(self))
        if unknown:
            raise ValueError(f"unknown fields: {sorted(unknown)}")
        if "down" in changes:
            if not isinstance(changes["down"], bool):
                raise ValueError("down must be a boolean")
            self.down = changes["down"]
        for name in ("latency_ms", "drop_responses", "reject_next"):
            if name in changes:
                value = changes[name]
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{name} must be a non-negative integer")
                setattr(self, name, value)

    def take_drop(self) -> bool:
        if self.drop_responses > 0:
            self.drop_responses -= 1
            return True
        return False

    def take_reject(self) -> bool:
        if self.reject_next > 0:
            self.reject_next -= 1
            return True
        return False

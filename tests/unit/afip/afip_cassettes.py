"""Serve AFIP's recorded answers (tests/fixtures/afip_recorded) through httpx.MockTransport."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "afip_recorded"


def interactions(name: str) -> list[dict]:
    return yaml.safe_load((FIXTURES / f"{name}.yaml").read_text())["interactions"]


def transport(name: str) -> httpx.MockTransport:
    """Answer each SOAPAction with the recorded answers for it, in recorded order."""
    queues: dict[str, list[dict]] = {}
    for i in interactions(name):
        action = (i["request"]["headers"].get("soapaction") or ['""'])[0].strip('"')
        queues.setdefault(action, []).append(i["response"])

    def handle(request: httpx.Request) -> httpx.Response:
        action = request.headers.get("soapaction", "").strip('"')
        if action.startswith("http://ar.gov.afip.dif.FEV1/") or action in queues:
            pending = queues[action]
        else:  # WSAA: pyafipws recorded SOAPAction "None"
            pending = queues.get("None") or queues[""]
        answer = pending.pop(0) if len(pending) > 1 else pending[0]
        return httpx.Response(answer["status"]["code"], content=answer["body"]["string"].encode("utf-8"),
                              headers={"content-type": "text/xml; charset=utf-8"})

    return httpx.MockTransport(handle)

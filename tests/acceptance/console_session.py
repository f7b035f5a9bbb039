"""An operator in the console over real HTTP: logs in through the login form, keeps the session
cookie, and posts forms with (or, to test the refusal, without) the session's CSRF token."""

from __future__ import annotations

import re

import httpx

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_PASSWORD = re.compile(r"password \(shown only now\): (\S+)")


def create_operator(server, email: str, *workspace_args: str) -> str:
    """``encola operator create`` through the CLI; the password it prints once."""
    output = server.cli("operator", "create", "--email", email, *workspace_args)
    return _PASSWORD.search(output).group(1)


class ConsoleSession:
    def __init__(self, base: str, email: str, password: str):
        self.client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
        form = self.client.get("/console/login")
        token = _CSRF.search(form.text).group(1)
        answer = self.client.post(
            "/console/login", data={"email": email, "password": password, "csrf_token": token, "next": ""}
        )
        assert answer.status_code == 303, answer.text
        self.csrf = _CSRF.search(self.get("/console/").text).group(1)

    def get(self, path: str, **params) -> httpx.Response:
        return self.client.get(path, params=params)

    def post(self, path: str, data: dict | None = None, *, files: dict | None = None, csrf: bool = True) -> httpx.Response:
        fields = {**(data or {}), **({"csrf_token": self.csrf} if csrf else {})}
        return self.client.post(path, data=fields, files=files)

    def close(self) -> None:
        self.client.close()

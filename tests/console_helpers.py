"""The console as a browser-less client sees it: operators made by the CLI, a logged-in session."""

from __future__ import annotations

import re

import httpx

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def create_operator(process, email: str, *cuits: str, all_workspaces: bool = False) -> str:
    """``encola operator create`` as an operator would run it; the password it printed."""
    args = ["operator", "create", "--email", email]
    for cuit in cuits:
        args += ["--workspace", cuit]
    if all_workspaces:
        args.append("--all")
    out = process.cli(*args)
    return out.rsplit(": ", 1)[1].strip()


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


class ConsoleClient:
    """An httpx client with a cookie jar, like a browser without JavaScript."""

    def __init__(self, base: str, headers: dict | None = None):
        self.http = httpx.Client(base_url=base, timeout=30, follow_redirects=False, headers=headers or {})

    def login(self, email: str, password: str, *, next_path: str = "") -> httpx.Response:
        form = self.http.get("/console/login")
        assert form.status_code == 200
        return self.http.post("/console/login", data={
            "csrf_token": csrf_of(form.text), "email": email, "password": password, "next": next_path,
        })

    def logged_in(self, email: str, password: str) -> "ConsoleClient":
        answer = self.login(email, password)
        assert answer.status_code == 303, answer.text
        return self

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs) -> httpx.Response:
        return self.http.post(path, data=data, **kwargs)

    def csrf(self) -> str:
        return csrf_of(self.get("/console/").text)

    def close(self) -> None:
        self.http.close()

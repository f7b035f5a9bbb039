"""Who gets into the console: operators made by the CLI, argon2 passwords, server-side sessions,
cookie flags, CSRF on every unsafe request, the login throttle, logout. A real ``encola serve``
on 127.0.0.1, spoken to over HTTP; both databases."""

from __future__ import annotations

import subprocess

import httpx
import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import select

from console_helpers import ConsoleClient, create_operator, csrf_of
from encola.store.schema import operator_sessions, operators
from support import ENCOLA, EncolaProcess, open_store_of_processes

pytestmark = pytest.mark.postgres

CUIT = "30712345671"
EMAIL = "ana@example.com"


@pytest.fixture(scope="module")
def server(database_url):
    process = EncolaProcess(database_url, extra_env={"ENCOLA_FORWARDED_ALLOW_IPS": "127.0.0.1"})
    process.provision(CUIT, 1, None)
    process.password = create_operator(process, EMAIL, CUIT)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def client(server):
    made = ConsoleClient(server.base)
    yield made
    made.close()


def test_the_password_is_printed_once_and_stored_only_as_an_argon2_hash(server, database_url):
    store = open_store_of_processes(database_url)
    with store.reading() as connection:
        stored = connection.execute(select(operators.c.password_hash).where(operators.c.email == EMAIL)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert server.password not in stored


@pytest.mark.parametrize("path", ["/console/", "/console/comprobantes", "/console/comprobantes/1", "/console/cola/tabla"])
def test_every_page_sends_a_visitor_without_a_session_to_the_login(client, path):
    answer = client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/login?next=")


def test_the_root_leads_to_the_console(client):
    answer = client.get("/")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/"


def test_an_unsafe_request_without_a_session_is_refused(client):
    assert client.post("/console/logout", data={"csrf_token": "x"}).status_code == 401


def test_a_wrong_password_opens_nothing(client):
    answer = client.login(EMAIL, "not-the-password")
    assert answer.status_code == 401
    assert "incorrectos" in answer.text
    assert "encola_sesion" not in answer.headers.get("set-cookie", "")
    assert client.get("/console/").status_code == 303


def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(client):
    answer = client.login("nadie@example.com", "whatever")
    assert answer.status_code == 401 and "E-mail o contraseña incorrectos." in answer.text


def test_login_sets_an_httponly_samesite_cookie_and_opens_the_console(server, client):
    answer = client.login(EMAIL, server.password, next_path="/console/comprobantes")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/comprobantes"
    cookie = next(v for v in answer.headers.get_list("set-cookie") if v.startswith("encola_sesion="))
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=lax" in flags and "path=/console" in flags
    assert "secure" not in flags  # plain http on 127.0.0.1
    page = client.get("/console/")
    assert page.status_code == 200 and EMAIL in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_behind_an_https_proxy_the_cookies_are_secure(server):
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}  # from 127.0.0.1, a trusted proxy
    with httpx.Client(base_url=server.base, timeout=30, headers=proxy) as proxied:
        form = proxied.get("/console/login")
        login_cookie = form.headers["set-cookie"]
        assert login_cookie.startswith("encola_login_csrf=") and "secure" in login_cookie.lower()
        # httpx, like a browser, keeps Secure cookies off plain http: this is the proxy's hop.
        value = login_cookie.split(";", 1)[0]
        answer = proxied.post("/console/login", headers={"Cookie": value}, data={
            "csrf_token": csrf_of(form.text), "email": EMAIL, "password": server.password})
    assert answer.status_code == 303
    cookie = next(v for v in answer.headers.get_list("set-cookie") if v.startswith("encola_sesion="))
    assert "secure" in cookie.lower()


def test_the_login_redirect_stays_inside_the_console(server, client):
    answer = client.login(EMAIL, server.password, next_path="//evil.example/console/")
    assert answer.headers["location"] == "/console/"


def test_a_login_form_without_its_csrf_cookie_is_refused(server):
    with httpx.Client(base_url=server.base) as bare:
        token = csrf_of(bare.get("/console/login").text)
        bare.cookies.clear()
        answer = bare.post("/console/login", data={"csrf_token": token, "email": EMAIL, "password": server.password})
    assert answer.status_code == 403
    assert "encola_sesion" not in answer.headers.get("set-cookie", "")


def test_an_unsafe_request_without_the_csrf_token_is_refused_and_changes_nothing(server, client):
    client.logged_in(EMAIL, server.password)
    assert client.post("/console/logout", data={}).status_code == 403
    assert client.post("/console/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/console/").status_code == 200  # still logged in
    assert client.post("/console/logout", headers={"X-CSRF-Token": client.csrf()}).status_code == 303


def test_logout_ends_the_session_on_the_server(server, client, database_url):
    client.logged_in(EMAIL, server.password)
    stolen = client.http.cookies.get("encola_sesion")
    assert client.post("/console/logout", data={"csrf_token": client.csrf()}).status_code == 303
    replay = ConsoleClient(server.base)
    try:
        replay.http.cookies.set("encola_sesion", stolen, domain="127.0.0.1", path="/console")
        assert replay.get("/console/").status_code == 303
    finally:
        replay.close()
    store = open_store_of_processes(database_url)
    with store.reading() as connection:
        tokens = connection.execute(select(operator_sessions.c.token_hash)).scalars().all()
    assert stolen not in tokens  # only hashes are kept


def test_a_new_password_ends_every_session(server, client):
    client.logged_in(EMAIL, server.password)
    out = server.cli("operator", "password", "--email", EMAIL)
    server.password = out.rsplit(": ", 1)[1].strip()
    assert client.get("/console/").status_code == 303
    ConsoleClient(server.base).logged_in(EMAIL, server.password).close()


def test_operator_create_refuses_unknown_cuits_missing_scope_and_duplicates(server):
    def run(*args):
        return subprocess.run([*ENCOLA, "operator", "create", *args], env=server.env, capture_output=True, text=True, timeout=60)

    unknown = run("--email", "x@example.com", "--workspace", "20000000001")
    assert unknown.returncode != 0 and "no workspace holds CUIT 20000000001" in unknown.stderr
    assert run("--email", "y@example.com").returncode != 0
    duplicate = run("--email", EMAIL, "--all")
    assert duplicate.returncode != 0 and "exists" in duplicate.stderr
    assert "ana@example.com\tactive\t30712345671" in server.cli("operator", "list")


def test_repeated_failures_lock_the_login_even_with_the_right_password(database_url):
    process = EncolaProcess(database_url)
    password = create_operator(process, "bruto@example.com", CUIT)
    process.start()
    client = ConsoleClient(process.base)
    try:
        statuses = [client.login("bruto@example.com", f"guess-{i}").status_code for i in range(10)]
        assert statuses == [401] * 10
        locked = client.login("bruto@example.com", password)
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    finally:
        client.close()
        process.stop()


@settings(max_examples=25)
@given(email=st.text(max_size=300), password=st.text(max_size=300), token=st.text(max_size=80))
def test_any_login_form_gets_a_page_never_a_server_error(server, email, password, token):
    with httpx.Client(base_url=server.base, timeout=30) as bare:
        answer = bare.post("/console/login", data={"csrf_token": token, "email": email, "password": password})
    assert answer.status_code in (401, 403, 429)
    assert "encola_sesion" not in answer.headers.get("set-cookie", "")

"""invoke fetch / migrate --fetch: the admin backup over HTTP from a real server on 127.0.0.1 (no mocked client)."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from invoke import Context

from d1pg import cli
from d1pg import fetch as fetch_module
from tests.conftest import SAMPLE
from tests.reliability import one_error_line

TOKEN = "d1pgSECRETcookie7f3a9c"
COOKIE = f"__Secure-authjs.session-token={TOKEN}"
BACKUP = SAMPLE.read_bytes()
GET_ANSWER = json.dumps({"currentVersion": 14, "currentVersionName": "0014_add_performance_indexes",
                         "tables": ["users", "accounts"]}).encode()


class _App(BaseHTTPRequestHandler):
    """The app's admin backup route, behaving as ``server.scenario`` says."""

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.server.requests.append((self.command, self.path, self.headers.get("Cookie")))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        scenario = self.server.scenario
        if scenario == "redirect" or (scenario == "redirect-same-origin" and not self.path.endswith("-v2")):
            self.send_response(307)
            self.send_header("Location", self.server.redirect_to if scenario == "redirect" else "/api/admin/backup-v2")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if scenario in ("401", "403"):
            return self._send(int(scenario), b'{"error":"Unauthorized"}')
        if scenario == "500" or (scenario == "500-twice" and len(self.server.requests) <= 2):
            return self._send(500, b"internal error")
        body = {"get-answer": GET_ANSWER, "html": b"<!doctype html><html><body>Sign in</body></html>" + b" " * 100,
                "no-closing-brace": BACKUP.rstrip()[:-1]}.get(scenario, BACKUP)
        if scenario == "short":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(200, body)

    do_GET = do_POST  # noqa: N815 - recorded all the same

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _serve():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _App)
    server.scenario, server.requests, server.redirect_to = "ok", [], ""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture
def app():
    servers = [_serve(), _serve()]
    yield servers
    for s in servers:
        s.shutdown()
        s.server_close()


def _url(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/api/admin/backup"


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch):
    monkeypatch.setattr(fetch_module, "BACKOFF_SECONDS", 0.01)


def _fetch_task(url: str, out: Path, **options) -> int:
    try:
        cli.fetch(Context(), url, out=str(out), progress=False, **options)
    except SystemExit as exc:
        return exc.code
    return 0


def test_fetch_posts_with_the_cookie_from_the_environment_and_writes_the_backup_whole(app, tmp_path, monkeypatch,
                                                                                       capfd):
    monkeypatch.setenv("D1PG_ADMIN_COOKIE", COOKIE)
    out = tmp_path / "backup.json"
    assert _fetch_task(_url(app[0]), out) == 0
    assert out.read_bytes() == BACKUP
    assert app[0].requests == [("POST", "/api/admin/backup", COOKIE)]
    record = json.loads((tmp_path / "backup.json.fetch.json").read_text())
    assert record["sha256"] == hashlib.sha256(BACKUP).hexdigest() and record["size_bytes"] == len(BACKUP)
    assert not list(tmp_path.glob("*.part"))
    printed = "".join(capfd.readouterr())
    assert hashlib.sha256(BACKUP).hexdigest() in printed and TOKEN not in printed


def test_the_cookie_can_come_from_a_file_and_never_from_the_command_line(app, tmp_path, monkeypatch):
    monkeypatch.delenv("D1PG_ADMIN_COOKIE", raising=False)
    cookie_file = tmp_path / "cookie"
    cookie_file.write_text(COOKIE + "\n")
    assert _fetch_task(_url(app[0]), tmp_path / "b.json", cookie_file=str(cookie_file)) == 0
    assert app[0].requests[0][2] == COOKIE
    assert _fetch_task(_url(app[0]), tmp_path / "c.json") == 2  # no cookie at all: nothing is sent
    assert len(app[0].requests) == 1
    assert "cookie" not in cli.fetch.help and "cookie" not in [a.name for a in cli.fetch.get_arguments()]


@pytest.mark.parametrize(("scenario", "says", "attempts"), [
    ("401", "HTTP 401: not an admin session", 1),
    ("403", "HTTP 403: not an admin session", 1),
    ("500", "HTTP 500 (after 4 attempts)", 4),
    ("get-answer", "this is the route's GET answer", 1),
    ("html", "not a backup envelope", 1),
    ("short", "short body", 4),
    ("no-closing-brace", "short body: the", 1),
])
def test_fetch_refuses_with_one_line_and_leaves_no_file(app, tmp_path, monkeypatch, capfd, scenario, says, attempts):
    monkeypatch.setenv("D1PG_ADMIN_COOKIE", COOKIE)
    app[0].scenario = scenario
    out = tmp_path / "backup.json"
    assert _fetch_task(_url(app[0]), out) == 2
    line = one_error_line(capfd.readouterr().err)
    assert says in line and TOKEN not in line, line
    assert len(app[0].requests) == attempts
    assert list(tmp_path.iterdir()) == []


def test_fetch_retries_server_errors_with_backoff(app, tmp_path, monkeypatch):
    monkeypatch.setenv("D1PG_ADMIN_COOKIE", COOKIE)
    app[0].scenario = "500-twice"
    assert _fetch_task(_url(app[0]), tmp_path / "backup.json") == 0
    assert len(app[0].requests) == 3 and (tmp_path / "backup.json").read_bytes() == BACKUP


def test_the_cookie_never_follows_a_redirect_to_another_host(app, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("D1PG_ADMIN_COOKIE", COOKIE)
    app[0].scenario = "redirect"
    app[0].redirect_to = _url(app[1]).replace("127.0.0.1", "localhost")
    assert _fetch_task(_url(app[0]), tmp_path / "backup.json") == 2
    assert "redirected to another origin" in one_error_line(capfd.readouterr().err)
    assert app[1].requests == []
    app[0].scenario = "redirect-same-origin"
    app[0].requests.clear()
    assert _fetch_task(_url(app[0]), tmp_path / "backup.json") == 0
    assert app[0].requests == [("POST", "/api/admin/backup", COOKIE), ("POST", "/api/admin/backup-v2", COOKIE)]


def test_plain_http_to_a_host_that_is_not_loopback_is_refused_before_connecting(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("D1PG_ADMIN_COOKIE", COOKIE)
    assert _fetch_task("http://app.example.com/api/admin/backup?x=1", tmp_path / "b.json") == 2
    line = one_error_line(capfd.readouterr().err)
    assert "http://app.example.com/api/admin/backup: plain http" in line and "x=1" not in line


def test_migrate_fetch_fetches_then_migrates_and_the_cookie_appears_nowhere(app, tmp_path, monkeypatch, capfd,
                                                                            pg_url):
    monkeypatch.setenv("D1PG_ADMIN_COOKIE", COOKIE)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "fetched.json"
    try:
        cli.migrate(Context(), str(out), fetch=_url(app[0]), database_url=pg_url, replace=True,
                      accept_missing=True, progress=False)
    except SystemExit as exc:
        assert exc.code == 0
    printed = "".join(capfd.readouterr())
    assert out.read_bytes() == BACKUP and "transform committed" in printed
    assert TOKEN not in printed
    with psycopg.connect(pg_url) as conn:
        stored = conn.execute("select string_agg(r::text, '') from migration.runs as r").fetchone()[0]
        stored += conn.execute("select string_agg(a::text, '') from migration.audit_log as a").fetchone()[0]
        assert conn.execute("select backup_path from migration.runs where step = 'stage'").fetchone()[0] == str(out)
    assert TOKEN not in stored
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path

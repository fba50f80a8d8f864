"""``invoke fetch URL``: download the app's admin backup over HTTP, safely.

The app builds the backup on ``POST /api/admin/backup`` for an admin session; a ``GET`` answers
only ``{currentVersion, currentVersionName, tables}`` (the list of names), which is recognised and
refused. The session cookie comes from the environment (``D1PG_ADMIN_COOKIE``) or a file
(``--cookie-file``), never from the command line, and never appears in any output, log, report or
``migration.runs``: errors name the URL without its query string.

The body streams into a temporary file beside ``--out``, renamed only once it is complete and looks
like a backup envelope; its size and sha256 are printed and written beside it
(``<out>.fetch.json``). Refused with one line: 401/403 (not an admin session), other HTTP errors
and lost connections after bounded retries with backoff, a body that is not a backup envelope, a
short body, a redirect to another origin (the cookie never follows it) and plain ``http://`` to a
host that is not loopback.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

from d1pg import console
from d1pg.errors import InputError

COOKIE_VARIABLE = "D1PG_ADMIN_COOKIE"
ATTEMPTS = 4
BACKOFF_SECONDS = 0.5
"""Waits between attempts: 0.5 s, 1 s, 2 s."""
TIMEOUT_SECONDS = (10, 300)
"""Connect, and between two reads of the body."""
MAX_REDIRECTS = 5
CHUNK = 1 << 20
HEAD_BYTES = 1 << 16
_ENVELOPE = re.compile(rb'\A\s*\{\s*"(?:[^"\\]|\\.)*"\s*:')
_TABLES_OBJECT = re.compile(rb'"tables"\s*:\s*\{')


@dataclass
class Fetched:
    path: Path
    size: int
    sha256: str


def read_cookie(cookie_file: Path | None = None) -> str:
    """The admin session cookie (``name=value``, or several joined by ``; ``): from ``--cookie-file``,
    else ``D1PG_ADMIN_COOKIE``."""
    if cookie_file is not None:
        try:
            cookie = Path(cookie_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"--cookie-file {cookie_file}: cannot read it ({getattr(exc, 'strerror', exc)})") from None
        where = f"--cookie-file {cookie_file}"
    else:
        cookie = os.environ.get(COOKIE_VARIABLE, "").strip()
        where = COOKIE_VARIABLE
        if not cookie:
            raise InputError(f"no admin session: set {COOKIE_VARIABLE} (the Cookie header of an admin session,"
                             " e.g. copied from the browser) or pass --cookie-file; never put it on the command line")
    if not cookie or "=" not in cookie or any(c in cookie for c in "\r\n\x00"):
        raise InputError(f"{where}: expected a cookie as name=value (several joined by '; ')")
    return cookie


def shown(url: str) -> str:
    """The URL for a message: without its query string, fragment or user info."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError(f"{shown(url)}: expected an https:// URL of the app's admin backup route")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise InputError(f"{shown(url)}: plain http to a host that is not this machine would send the admin"
                         " cookie unencrypted; use https://")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def fetch(url: str, out: Path, *, cookie: str, progress: bool | None = None, quiet: bool = False) -> Fetched:
    """POST to the admin backup route and stream the backup into ``out``."""
    import requests

    _check_url(url)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    with requests.Session() as session:
        session.trust_env = False  # no ~/.netrc, no proxy settings from the environment: only this cookie
        for attempt in range(1, ATTEMPTS + 1):
            try:
                result = _attempt(session, url, part, cookie, progress)
                break
            except _Retry as exc:
                if attempt == ATTEMPTS:
                    part.unlink(missing_ok=True)
                    raise InputError(f"{shown(url)}: {exc} (after {ATTEMPTS} attempts)") from None
                time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
            except BaseException:
                part.unlink(missing_ok=True)
                raise
    size, digest = result
    part.replace(out)
    record = {"url": shown(url), "path": str(out), "size_bytes": size, "sha256": digest,
              "fetched_at": datetime.now(UTC).isoformat(timespec="seconds")}
    out.with_name(out.name + ".fetch.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if not quiet:
        console.say(f"fetched {shown(url)} into {out}: {size:,} bytes, sha256 {digest}")
    return Fetched(out, size, digest)


class _Retry(Exception):
    """A failure worth another attempt: a lost connection, a timeout, a 5xx or 429 answer."""


def _attempt(session, url: str, part: Path, cookie: str, progress: bool | None) -> tuple[int, str]:
    import requests

    target = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            response = session.post(target, headers={"Cookie": cookie, "Accept": "application/json"},
                                    allow_redirects=False, stream=True, timeout=TIMEOUT_SECONDS)
            if response.is_redirect:
                location = urljoin(target, response.headers.get("Location", ""))
                response.close()
                if _origin(location) != _origin(target):
                    raise InputError(f"{shown(url)}: redirected to another origin ({shown(location)}); the admin"
                                     " cookie is not sent there. Fetch from the final URL if you trust it")
                target = location
                continue
            break
        else:
            raise InputError(f"{shown(url)}: more than {MAX_REDIRECTS} redirects")
        with response:
            return _body(response, url, part, progress)
    except requests.exceptions.ConnectionError as exc:
        raise _Retry(f"connection failed ({type(exc).__name__})") from None
    except requests.exceptions.Timeout:
        raise _Retry("timed out") from None
    except requests.exceptions.RequestException as exc:
        raise InputError(f"{shown(url)}: the request failed ({type(exc).__name__})") from None


def _body(response, url: str, part: Path, progress: bool | None) -> tuple[int, str]:
    import requests

    status = response.status_code
    if status in (401, 403):
        raise InputError(f"{shown(url)}: HTTP {status}: not an admin session (the cookie is missing, expired or"
                         " not an admin's)")
    if status >= 500 or status == 429:
        raise _Retry(f"HTTP {status}")
    if status != 200:
        raise InputError(f"{shown(url)}: HTTP {status}: expected 200 with the backup")
    expected = response.headers.get("Content-Length")
    digest = hashlib.sha256()
    size = 0
    head = b""
    import urllib3

    total = int(expected) if expected and expected.isdigit() else None
    with open(part, "wb") as f, console.byte_progress(f"fetching {shown(url)}", total, progress) as update:
        blocks = response.raw.stream(CHUNK, decode_content=True)
        while True:
            try:
                block = next(blocks, None)
            except (urllib3.exceptions.HTTPError, requests.exceptions.RequestException, OSError) as exc:
                of = f" of {total:,}" if total is not None else ""
                raise _Retry(f"short body: the connection closed after {size:,}{of} bytes ({type(exc).__name__})"
                             ) from None
            if block is None:
                break
            if len(head) < HEAD_BYTES:
                head += block[:HEAD_BYTES - len(head)]
                _check_head(head, url, final=False)
            try:
                f.write(block)
            except OSError as exc:
                raise InputError(f"{part}: cannot write ({exc.strerror})") from None
            digest.update(block)
            size += len(block)
            update(response.raw.tell())
    _check_head(head, url, final=True)
    received = response.raw.tell()
    if expected and expected.isdigit() and received < int(expected):
        raise _Retry(f"short body: {received:,} of {int(expected):,} bytes")
    _check_whole(part, url, size)
    return size, digest.hexdigest()


def _check_whole(part: Path, url: str, size: int) -> None:
    """Read the downloaded backup through once, as stage will: a body cut short, or anything else that is
    not a whole backup, is refused now rather than left for stage."""
    from d1pg.backup import BackupReader

    try:
        with BackupReader(part, fast=True) as reader:
            for _, rows in reader.tables():
                for _ in rows:
                    pass
    except InputError as exc:
        detail = str(exc).removeprefix(f"{part}: ")
        short = "short body: " if "truncated" in detail or "end of the file" in detail else ""
        raise InputError(f"{shown(url)}: {short}the {size:,} bytes received are not a whole backup: {detail}"
                         ) from None


def _check_head(head: bytes, url: str, *, final: bool) -> None:
    """The body must start as the backup envelope: a JSON object whose 'tables' is an object. The GET
    answer ({currentVersion, currentVersionName, tables: [names]}) is named as such."""
    if b'"currentVersion"' in head:
        raise InputError(f"{shown(url)}: this is the route's GET answer (currentVersion and the table names), not a"
                         " backup: the app builds the backup on POST; is the URL the admin backup route?")
    if len(head) < 2 and not final:
        return
    if not _ENVELOPE.match(head) and (final or len(head) >= 64):
        start = head[:40].decode("utf-8", errors="replace")
        raise InputError(f"{shown(url)}: the answer is not a backup envelope (a JSON object with 'tables'); it"
                         f" starts with {start!r}")
    if (final or len(head) >= HEAD_BYTES) and not _TABLES_OBJECT.search(head):
        raise InputError(f"{shown(url)}: the answer is not a backup envelope: no 'tables' object near its start")


def default_out(now: datetime | None = None) -> Path:
    moment = now or datetime.now(UTC)
    return Path("backups") / f"admin-backup-{moment:%Y%m%dT%H%M%SZ}.json"



def run_fetch(url: str, out: Path | None = None, cookie_file: Path | None = None, progress: bool | None = None
              ) -> Fetched:
    """``invoke fetch``: the cookie first (nothing is sent without it), then the download."""
    cookie = read_cookie(Path(cookie_file) if cookie_file else None)
    return fetch(url, Path(out) if out else default_out(), cookie=cookie, progress=progress)

"""Secrets (contract §9): the tokens of a backup (access_token, refresh_token, id_token, session_state,
sessionToken, token) and the database password never appear where a person sees them: stdout, stderr,
error messages, migration.runs, migration.audit_log, report files. (The target and the bookkeeping
tables keep the raw values: the target holds the same tokens.)"""

from __future__ import annotations

import importlib.util
import json
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.conftest import SAMPLE
from tests.reliability import owned_database, run_task

pytestmark = pytest.mark.reliability

MARK = uuid.uuid4().hex[:12]
TOKENS = {key: f"{key}-SECRET-{MARK}" for key in
          ("access_token", "refresh_token", "id_token", "session_state", "sessionToken", "token")}


def _backup_with_tokens(folder: Path) -> dict[str, Path]:
    """The sample with a distinctive value in every secret key, in rows that migrate, rows that are
    rejected (a bad value, an unstorable row) and rows left behind (sessions, verification_tokens)."""
    doc = json.loads(SAMPLE.read_text())
    tables = doc["tables"]
    for row in tables["accounts"]:
        row.update({k: TOKENS[k] for k in ("access_token", "refresh_token", "id_token", "session_state")})
    tables["accounts"][1]["expires_at"] = f"soon {TOKENS['access_token']}"  # rejected: invalid_integer
    tables["accounts"][2]["provider"] = TOKENS["id_token"]  # rejected: check_violation, raw value = a token
    for row in tables["sessions"]:
        row["sessionToken"] = TOKENS["sessionToken"]
    tables["verification_tokens"] = [{"identifier": "a@example.com", "token": TOKENS["token"],
                                      "expires": "2026-02-01 00:00:00"}]
    text = json.dumps(doc, indent=2)
    scope = f'"scope": {json.dumps(tables["accounts"][3]["scope"])}'
    unstorable = text.replace(scope, '"scope": "nul \\u0000 here"', 1)
    assert unstorable != text
    good = folder / "tokens.json"
    good.write_text(unstorable)
    broken = folder / "tokens-broken.json"  # a syntax error inside a row that holds every token
    broken.write_text(unstorable.replace(f'"session_state": "{TOKENS["session_state"]}"',
                                         f'"session_state": "{TOKENS["session_state"]}" "oops"', 1))
    return {"good": good, "broken": broken}


def _url_form(keyword_url: str, **change) -> str:
    """The same connection as a postgresql:// URL holding the password."""
    p = conninfo_to_dict(keyword_url) | change
    host = p.get("host", "")
    where = f"@/{p['dbname']}?host={quote(host, safe='')}&port={p['port']}" if host.startswith("/") \
        else f"@{host}:{p['port']}/{p['dbname']}"
    return f"postgresql://{quote(p['user'])}:{quote(p['password'])}{where}"


def _seen_by_people(url: str, outputs: list[str], folder: Path) -> str:
    """Everything a person sees: task output, the audit trail, every report file under ``folder``."""
    with psycopg.connect(url) as conn:
        trail = [r[0] for r in conn.execute("select r::text from migration.runs as r union all"
                                            " select a::text from migration.audit_log as a").fetchall()]
    files = [p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file() and "reports" in p.parts]
    return "\n".join(outputs + trail + files)


def test_tokens_and_the_password_never_reach_output_messages_audit_or_reports(tmp_path):
    backups = _backup_with_tokens(tmp_path)
    with owned_database() as (url, password):
        as_url = _url_form(url)
        runs = [
            run_task("migrate", str(backups["good"]), "--database-url", as_url, "--no-progress", cwd=tmp_path),
            run_task("migrate", str(backups["good"]), "--replace", "--database-url", url, "--no-progress",
                     cwd=tmp_path),
            run_task("stage", str(backups["broken"]), "--database-url", as_url, "--no-progress", cwd=tmp_path),
            run_task("stage", str(backups["good"]), "--skip-table", "users", "--database-url", url, "--no-progress",
                     cwd=tmp_path),
            run_task("transform", "--database-url", as_url, "--no-progress", cwd=tmp_path),  # users absent
            run_task("transform", "--database-url", _url_form(url, dbname="no_such_database"), cwd=tmp_path),
            run_task("transform", "--database-url", url.replace("dbname=", "dbname=no_such_"), cwd=tmp_path),
            run_task("schema", "--database-url", _url_form(url, port="1"), cwd=tmp_path),
            run_task("db", "--database-url", as_url, cwd=tmp_path),
        ]
        if importlib.util.find_spec("d1pg.validate") is not None:  # once validate and its reports exist
            runs.append(run_task("validate", "--database-url", as_url, cwd=tmp_path))
        assert [r.returncode for r in runs[:9]] == [0, 0, 2, 0, 2, 3, 3, 3, 0]
        outputs = [r.stdout + r.stderr for r in runs]
        assert all("Traceback" not in o for o in outputs)
        assert "cannot connect to postgresql://" in outputs[5] and ":***@" in outputs[5]
        seen = _seen_by_people(url, outputs, tmp_path)

        with psycopg.connect(url) as conn:  # the target keeps them: the test planted what it looks for
            kept = conn.execute("select access_token, refresh_token, id_token, session_state from accounts"
                                " limit 1").fetchone()
            rejected = conn.execute("select raw_value from migration.rejects where raw_value like %s",
                                    [f"%{MARK}%"]).fetchall()
    assert kept == tuple(TOKENS[k] for k in ("access_token", "refresh_token", "id_token", "session_state"))
    assert len(rejected) >= 2
    for key, value in TOKENS.items():
        assert value not in seen, key
    assert MARK not in seen
    assert password not in seen


def test_reports_hold_no_secret_once_validate_writes_them(tmp_path):
    """After validate and its reports are merged: the report files of a run with tokens mask them."""
    pytest.importorskip("d1pg.validate")
    backups = _backup_with_tokens(tmp_path)
    with owned_database() as (url, password):
        done = [run_task("migrate", str(backups["good"]), "--database-url", url, "--no-progress", cwd=tmp_path),
                run_task("validate", "--database-url", url, cwd=tmp_path)]
        reports = [p for p in tmp_path.rglob("*") if p.is_file() and "reports" in p.parts]
        assert reports, "validate wrote no report under reports/"
        seen = _seen_by_people(url, [d.stdout + d.stderr for d in done], tmp_path)
    assert MARK not in seen and password not in seen

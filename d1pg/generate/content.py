"""Content catalogs, knowledge and notes, reference audio, system tables (all-tables.md "Content" to
"System"), and wrangler's ``d1_migrations``."""

from __future__ import annotations

import random
from collections.abc import Iterator

from d1pg.generate.catalogs import (
    ADMIN_GLOSSARY,
    ADMIN_PACKS,
    D1_MIGRATIONS,
    DAW_SHORTCUTS,
    GLOSSARY_TERMS,
    IGNITION_PACKS,
    RECIPES,
)
from d1pg.generate.people import Ctx
from d1pg.generate.values import (
    CATALOG_CREATED,
    DAY,
    JSON_TEXT,
    NOW,
    TS_ISO,
    TS_MIXED,
    TS_MOSTLY_ISO,
    TS_MOSTLY_SQLITE,
    TS_SQLITE,
    pick,
    rand36,
    real,
    sqlite,
    ts,
    ts_ms,
    uuid,
)

_ADMIN_MS = 1_761_500_000_000
"""When the admin added content through the admin routes (``glossary_<ms>``, ``ignition_<ms>``)."""


def ignition_packs(c: Ctx, rng: random.Random) -> Iterator[dict]:
    yield from (dict(r) for r in IGNITION_PACKS)
    for k, (key, name, description, category, items) in enumerate(ADMIN_PACKS):
        ms = _ADMIN_MS + k * 60_000 + 123
        yield {"id": f"ignition_{ms}", "key": key, "name": name, "description": description, "category": category,
               "items_json": JSON_TEXT(items), "icon": None, "sort_order": len(IGNITION_PACKS) + k + 1,
               "created_at": ts_ms(ms, 0.5, TS_ISO)}


def daw_shortcuts(c: Ctx, rng: random.Random) -> Iterator[dict]:
    yield from (dict(r) for r in DAW_SHORTCUTS)


def glossary_terms(c: Ctx, rng: random.Random) -> Iterator[dict]:
    yield from (dict(r) for r in GLOSSARY_TERMS)
    for k, (term, definition, category, related) in enumerate(ADMIN_GLOSSARY):
        ms = _ADMIN_MS + DAY * 1000 + k * 60_000 + 456
        yield {"id": f"glossary_{ms}", "term": term, "definition": definition, "category": category,
               "related_terms": related, "created_at": ts_ms(ms, 0.5, TS_ISO)}


def recipe_templates(c: Ctx, rng: random.Random) -> Iterator[dict]:
    for name, description, category, genre, steps, tips in RECIPES:
        yield {"id": uuid(rng.getrandbits(128)), "name": name, "description": description, "category": category,
               "genre": genre, "steps_json": JSON_TEXT(steps), "tips": tips, "created_at": CATALOG_CREATED}


_INFO = (("Sidechain trick", "Duck the pad with the kick, ratio 4:1, release 120 ms.", "Production"),
         ("Warm-up routine", "5 min rower, band pull-aparts, goblet squats.", "Fitness"),
         ("Pomodoro notes", "25/5 works; 50/10 for mixing.", None),
         ("Reading list", "1. Deep Work\n2. Make It Stick\n3. Range", "Tips"))


def infobase_entries(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        n = int(x() ** 2 * 4)
        for ms in u.stamps([u.when(x) for _ in range(n)]):
            title, content, category = pick(x, _INFO)
            yield {"id": f"info_{ms}" if x() < 0.5 else uuid(rng.getrandbits(128)), "user_id": u.id,
                   "title": title, "content": content, "category": category,
                   "tags_json": JSON_TEXT(rng.sample(("music", "mixing", "health", "study", "ideas"), 2))
                   if x() < 0.6 else None,
                   "is_public": 1 if x() < 0.1 else 0, "created_at": ts_ms(ms, x(), TS_MOSTLY_ISO),
                   "updated_at": ts_ms(ms, x(), TS_MIXED)}


_IDEAS = ("Bassline in 7/8?", "App idea: habit tracker for cats 🐈",
          "Track title: \"Night Bus\"\nchords: Am – F – C – G\nbpm 92",
          "Sample the kettle whistle", "Write about the first gig", "Collab with Kai on the remix")


def ideas(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        for _ in range(int(x() ** 2 * 6)):
            t = u.when(x)
            yield {"id": uuid(rng.getrandbits(128)), "user_id": u.id, "content": pick(x, _IDEAS),
                   "category": pick(x, (None, "music", "app", "writing")),
                   "tags_json": JSON_TEXT(["idea"]) if x() < 0.3 else None, "is_favorite": 1 if x() < 0.15 else 0,
                   "created_at": ts(t, x(), TS_MOSTLY_ISO), "updated_at": ts(t, x(), TS_MIXED)}


_TRACKS = (("Strobe", "deadmau5"), ("Windowlicker", "Aphex Twin"), ("Teardrop", "Massive Attack"),
           ("Ágætis byrjun", "Sigur Rós"), ("reference mix v3", None))
_MIME = (("audio/mpeg", "mp3"), ("audio/wav", "wav"), ("audio/flac", "flac"), ("audio/mp4", "m4a"))


def reference_tracks(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for tid, ms in u.tracks(seed):
            title, artist = pick(x, _TRACKS)
            mime, ext = pick(x, _MIME)
            key = (f"{u.id}/reference/{uuid(rng.getrandbits(128))}.{ext}" if x() < 0.6
                   else f"reference-tracks/{u.id}/{ms}_{title.replace(' ', '_')}.{ext}")
            yield {"id": tid, "user_id": u.id, "title": title, "artist": artist, "r2_key": key, "mime_type": mime,
                   "bytes": 2_000_000 + int(x() * 60_000_000), "sha256": f"{rng.getrandbits(256):064x}"
                   if x() < 0.8 else None,
                   "duration_seconds": real(60 + x() * 480, 3) if x() < 0.9 else None,
                   "tags_json": JSON_TEXT(["reference"]) if x() < 0.4 else None, "visibility": "private",
                   "created_at": ts_ms(ms, x(), TS_MOSTLY_ISO), "updated_at": ts_ms(ms, x(), TS_MIXED)}


_KEYS = ("A minor", "C major", "F# minor", "E♭ major", "G minor")


def track_analysis_cache(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for tid, ms in u.tracks(seed):
            if x() >= 0.7:
                continue
            t = ms // 1000 + 30
            yield {"id": uuid(rng.getrandbits(128)), "track_id": tid, "bpm": real(70 + x() * 110, 2),
                   "key": pick(x, _KEYS), "energy": real(x(), 3), "danceability": real(x(), 3),
                   "sections_json": JSON_TEXT([{"start": 0, "label": "intro"}, {"start": 32.5, "label": "drop"}]),
                   "waveform_json": JSON_TEXT([real(x(), 2) for _ in range(16)]), "analyzer_version": "1.4.2",
                   "analyzed_at": ts(t, x(), TS_ISO), "created_at": ts(t, x(), TS_SQLITE)}


_FEEDBACK = (("bug", "Timer stops when the tab is in the background"),
             ("feature", "Dark mode for the planner please 🙏"),
             ("bug", "Habit streak reset after midnight\nSteps: 1. log at 23:59 2. reload at 00:01"),
             ("other", "Love the app!"))
_AGENTS = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 "
           "Safari/605.1.15", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0.0.0 Safari/537.36", None)


def feedback(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if x() >= 0.1:
            continue
        (ms,) = u.stamps([u.when(x)])
        kind, message = pick(x, _FEEDBACK)
        yield {"id": f"feedback-{ms}", "user_id": u.id, "type": kind, "message": message,
               "page_url": pick(x, ("/today", "/focus", "/planner", None)), "user_agent": pick(x, _AGENTS),
               "status": pick(x, ("new", "new", "new", "resolved", "closed", "in_progress")),
               "created_at": ts_ms(ms, x(), TS_MOSTLY_SQLITE)}


_REASONS = ("Friend invited me", "Producer looking for a focus app", None, "Saw it on Reddit")


def access_requests(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    admin = c.user(0)
    for u in c.each_user():
        if x() < 0.3:  # the request the user made before signing up, approved
            t = u.created - int(x() * 3 * DAY) - 3600
            yield {"id": uuid(rng.getrandbits(128)), "email": u.email, "name": u.name, "reason": pick(x, _REASONS),
                   "status": "approved", "reviewed_by": admin.id if admin and x() < 0.9 else None,
                   "reviewed_at": ts(t + 1800, x(), TS_ISO), "created_at": ts(t, x(), TS_MOSTLY_SQLITE)}
        if x() < 0.03:  # someone else's, still pending or denied
            t = u.when(x)
            denied = x() < 0.4
            yield {"id": uuid(rng.getrandbits(128)), "email": f"visitor.{rand36(rng, 6)}@example.net", "name": None,
                   "reason": pick(x, _REASONS), "status": "denied" if denied else "pending",
                   "reviewed_by": admin.id if denied and admin else None,
                   "reviewed_at": ts(t + DAY, x(), TS_ISO) if denied else None, "created_at": ts(t, x(), TS_SQLITE)}


def d1_migrations(c: Ctx, rng: random.Random) -> Iterator[dict]:
    t = 1_736_000_000  # 2025-01-04: one migration every week or two, the master reset last
    for n, name in enumerate(D1_MIGRATIONS, 1):
        t = NOW + 7_200 if n == len(D1_MIGRATIONS) else t + 86_400 * 10 + 3_671 * n
        yield {"id": n, "name": name, "applied_at": sqlite(t)}


PASSES = {
    "ignition_packs": (ignition_packs, None),
    "daw_shortcuts": (daw_shortcuts, None),
    "glossary_terms": (glossary_terms, None),
    "recipe_templates": (recipe_templates, None),
    "infobase_entries": (None, infobase_entries),
    "ideas": (None, ideas),
    "reference_tracks": (None, reference_tracks),
    "track_analysis_cache": (None, track_analysis_cache),
    "feedback": (None, feedback),
    "notifications": (None, None),  # no code at the app's version writes it: expected empty
    "admin_audit_log": (None, None),  # no code writes it: expected empty
    "access_requests": (None, access_requests),
    "d1_migrations": (d1_migrations, None),
}

"""Books and learning (all-tables.md "Books", "Learn")."""

from __future__ import annotations

import random
from collections.abc import Iterator

from d1pg.generate.catalogs import DRILL_IDS, LEARN_DRILLS, LEARN_TOPICS, LESSON_IDS, LESSONS
from d1pg.generate.people import Ctx
from d1pg.generate.values import (
    CATALOG_CREATED,
    DAY,
    JSON_TEXT,
    NOW,
    TS_ISO,
    TS_MIXED,
    TS_MOSTLY_ISO,
    pick,
    ts,
    ts_ms,
    uuid,
)

_BOOKS = (("Atomic Habits", "James Clear"), ("Deep Work", "Cal Newport"), ("Making Music", "Dennis DeSantis"),
          ("Der Steppenwolf", "Hermann Hesse"), ("Cien años de soledad", "Gabriel García Márquez"),
          ("ノルウェイの森", "村上春樹"), ("Mixing Secrets", ""), ("The Artist's Way", "Julia Cameron"))


def books(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for bid, ms, pages, status in u.books(seed):
            t = ms // 1000
            title, author = pick(x, _BOOKS)
            started = status not in ("want-to-read",)
            done = status == "completed"
            current = pages if done else (int(x() * pages) if started and pages else 0)
            finished = t + int(x() * (NOW - t))
            yield {"id": bid, "user_id": u.id, "title": title, "author": author, "total_pages": pages,
                   "current_page": current, "status": status,
                   "started_at": ts(t + DAY, x(), TS_ISO) if started else None,
                   "completed_at": ts(finished, x(), TS_ISO) if done else None,
                   "rating": 1 + int(x() * 5) if done and x() < 0.7 else None,
                   "notes": None if x() < 0.8 else "Re-read chapter 3.",
                   "created_at": ts_ms(ms, x(), TS_MOSTLY_ISO), "updated_at": ts(finished, x(), TS_MIXED)}


def reading_sessions(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        reads = []
        for bid, ms, _, status in u.books(seed):
            if status in ("reading", "completed", "abandoned", "dnf"):
                t = ms // 1000 + DAY
                reads += [(bid, t + int(x() * (NOW - t))) for _ in range(1 + int(x() * 5))]
        if not reads:
            continue
        reads.sort(key=lambda r: r[1])
        for (bid, _), ms in zip(reads, u.stamps([r[1] for r in reads]), strict=True):
            yield {"id": f"session_{ms}", "book_id": bid, "user_id": u.id, "pages_read": 1 + int(x() * 60),
                   "duration_minutes": 5 + int(x() * 90) if x() < 0.8 else None,
                   "started_at": ts_ms(ms, x(), TS_MOSTLY_ISO), "notes": None if x() < 0.9 else "on the train 🚆"}


def learn_topics(c: Ctx, rng: random.Random) -> Iterator[dict]:
    yield from (dict(r) for r in LEARN_TOPICS)


def learn_lessons(c: Ctx, rng: random.Random) -> Iterator[dict]:
    for n, (topic, key, title, minutes, difficulty, skill, audio) in enumerate(LESSONS):
        quiz = [{"q": f"{title}?", "options": ["A", "B", "C"], "answer": n % 3}] if n % 3 else None
        yield {"id": f"lesson_{key}", "topic_id": topic, "key": key, "title": title,
               "description": f"{title} in {minutes} minutes",
               "content_markdown": f"# {title}\n\nListen, then try it yourself.\n\n- Step 1\n- Step 2\n",
               "duration_minutes": minutes, "difficulty": difficulty,
               "quiz_json": JSON_TEXT(quiz) if quiz else None, "xp_reward": 15, "coin_reward": 5,
               "skill_key": skill, "skill_star_reward": 1 if skill else None,
               "audio_r2_key": f"learn/audio/{key}.mp3" if audio else None, "sort_order": n % 3 + 1,
               "created_at": CATALOG_CREATED}


def learn_drills(c: Ctx, rng: random.Random) -> Iterator[dict]:
    yield from (dict(r) for r in LEARN_DRILLS)


def user_lesson_progress(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        n = int(x() ** 2 * 6)
        for lesson in rng.sample(LESSON_IDS, n):
            t = u.when(x)
            s = x()
            status = "completed" if s < 0.55 else ("in_progress" if s < 0.85 else "not_started")
            yield {"id": uuid(rng.getrandbits(128)), "user_id": u.id, "lesson_id": lesson, "status": status,
                   "started_at": ts(t, x(), TS_ISO) if status != "not_started" else None,
                   "completed_at": ts(t + 600 + int(x() * 3600), x(), TS_ISO) if status == "completed" else None,
                   "quiz_score": int(x() * 101) if status == "completed" and x() < 0.6 else None,
                   "attempts": (1 + int(x() * 3)) if status != "not_started" else 0}


def user_drill_stats(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        n = int(x() ** 2 * 5)
        for drill in rng.sample(DRILL_IDS, n):
            attempts = 1 + int(x() * 80)
            correct = int(attempts * x())
            best = int(x() * 15)
            t = u.when(x)
            yield {"id": uuid(rng.getrandbits(128)), "user_id": u.id, "drill_id": drill, "attempts": attempts,
                   "correct": correct, "streak": int(x() * (best + 1)), "best_streak": best,
                   "last_attempted_at": ts(t, x(), TS_MOSTLY_ISO),
                   "next_due_at": ts(t + DAY * (1 + int(x() * 6)), x(), TS_ISO) if x() < 0.7 else None}


PASSES = {
    "books": (None, books),
    "reading_sessions": (None, reading_sessions),
    "learn_topics": (learn_topics, None),
    "learn_lessons": (learn_lessons, None),
    "learn_drills": (learn_drills, None),
    "user_lesson_progress": (None, user_lesson_progress),
    "user_drill_stats": (None, user_drill_stats),
    # No code at the app's version writes these three (only delete / export): expected empty.
    "flashcard_decks": (None, None),
    "flashcards": (None, None),
    "journal_entries": (None, None),
}

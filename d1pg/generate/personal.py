"""Settings and personalisation, onboarding, the market, focus (all-tables.md: "Auth" to "Focus")."""

from __future__ import annotations

import random
from collections.abc import Iterator

from d1pg.generate.catalogs import INTERESTS, MARKET_ITEMS, ONBOARDING_FLOWS, ONBOARDING_STEPS, STEP_IDS
from d1pg.generate.people import Ctx
from d1pg.generate.values import (
    JSON_TEXT,
    NOW,
    TS_ISO,
    TS_MIXED,
    TS_MOSTLY_ISO,
    TS_MOSTLY_SQLITE,
    TS_SQLITE,
    pick,
    ts,
    uuid,
)

_MODULES = ("today", "focus", "quests", "habits", "learn", "ignitions", "progress", "planner", "market")


def user_settings(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if x() >= 0.85:
            continue
        created = u.created + int(x() * 600)
        custom = x() < 0.4  # most users keep the onboarding defaults
        yield {
            "id": f"settings_{u.id}", "user_id": u.id,
            "nudge_intensity": pick(x, ("gentle", "standard", "energetic")) if custom else "standard",
            "default_focus_duration": pick(x, (300, 600, 1500, 1800)) if custom else 300,
            "gamification_visible": pick(x, ("always", "subtle", "hidden")) if custom else "always",
            "planner_mode": pick(x, ("collapsed", "expanded")) if custom else "collapsed",
            "theme": pick(x, ("system", "system", "dark", "light", None)),
            "notifications_enabled": 1 if x() < 0.8 else 0,
            "created_at": ts(created, x(), TS_SQLITE), "updated_at": ts(u.when(x), x(), TS_MIXED),
        }


def user_interests(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if x() >= 0.6:
            continue
        t = u.created + int(x() * 900)
        for priority, key in enumerate(rng.sample(INTERESTS, 1 + int(x() * 3)), 1):
            yield {"id": f"interest_{u.id}_{key}", "user_id": u.id, "interest_key": key, "priority": priority,
                   "created_at": ts(t, x(), TS_MOSTLY_ISO)}


def user_ui_modules(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if x() >= 0.4:
            continue
        for key in rng.sample(_MODULES, 2 + int(x() * 4)):
            shown = u.when(x) if x() < 0.7 else None
            yield {"id": f"module_{u.id}_{key}", "user_id": u.id, "module_key": key, "weight": int(x() * 101),
                   "enabled": 1 if x() < 0.85 else 0,
                   "last_shown_at": ts(shown, x(), TS_MOSTLY_ISO) if shown else None,
                   "created_at": ts(u.created + int(x() * 3600), x(), TS_SQLITE)}


def onboarding_flows(c: Ctx, rng: random.Random) -> Iterator[dict]:
    yield from (dict(r) for r in ONBOARDING_FLOWS)


def onboarding_steps(c: Ctx, rng: random.Random) -> Iterator[dict]:
    yield from (dict(r) for r in ONBOARDING_STEPS)


def user_onboarding_state(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if x() >= 0.9:
            continue
        s = x()
        status = "completed" if s < 0.55 else ("in_progress" if s < 0.75 else ("skipped" if s < 0.9 else
                                                                                   "not_started"))
        start = u.created + int(x() * 300)
        done = start + 60 + int(x() * 900)
        steps = len(STEP_IDS) if status == "completed" else (1 + int(x() * 9) if status != "not_started" else 0)
        responses: dict = {}
        if steps >= 2:
            responses["step_2_interests"] = rng.sample(INTERESTS, 1 + int(x() * 3))
        if steps >= 3:
            responses["step_3_intensity"] = pick(x, ("gentle", "standard", "energetic"))
        if steps >= 8:
            responses["step_8_focus_duration"] = pick(x, (300, 600, 1500, 1800))
        yield {
            "id": f"onboarding_{u.id}", "user_id": u.id, "flow_id": "flow_main_v1",
            "current_step_id": STEP_IDS[min(steps, len(STEP_IDS) - 1)] if status != "not_started" else None,
            "status": status,
            "started_at": ts(start, x(), TS_ISO) if status != "not_started" else None,
            "completed_at": ts(done, x(), TS_ISO) if status == "completed" else None,
            "skipped_at": ts(done, x(), TS_ISO) if status == "skipped" else None,
            "last_step_completed_at": ts(done, x(), TS_ISO) if steps else None,
            "responses_json": JSON_TEXT(responses) if responses else None,
            "can_resume": 0 if status in ("completed", "skipped") and x() < 0.5 else 1,
            "created_at": ts(start, x(), TS_SQLITE), "updated_at": ts(done, x(), TS_MIXED),
        }


def market_items_catalog(c: Ctx, rng: random.Random) -> Iterator[dict]:
    yield from (dict(r) for r in MARKET_ITEMS)


_REWARDS = (("30 min of gaming 🎮", 120), ("Fancy coffee", 60), ("Movie night", 300), ("New plugin", 900))


def market_items(c: Ctx, rng: random.Random) -> Iterator[dict]:
    """Rewards users made for themselves: ``item_user_<user>_<8 hex>``."""
    x = rng.random
    for u in c.each_user():
        if x() >= 0.03:
            continue
        name, cost = pick(x, _REWARDS)
        tag = f"{rng.getrandbits(32):08x}"
        yield {"id": f"item_user_{u.id}_{tag}", "key": f"custom_{tag}", "name": name, "description": None,
               "category": "custom", "cost_coins": cost, "icon": "gift", "is_global": 0, "is_available": 1,
               "is_active": 1 if x() < 0.9 else 0, "is_consumable": 1, "sort_order": 100,
               "created_by_user_id": u.id, "created_at": ts(u.when(x), x(), TS_MOSTLY_ISO)}


def user_purchases(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        for _ in range(int(x() ** 2 * 5)):
            item = pick(x, MARKET_ITEMS)
            t = u.when(x)
            redeemed = item["is_consumable"] and x() < 0.5
            yield {"id": uuid(rng.getrandbits(128)), "user_id": u.id, "item_id": item["id"],
                   "cost_coins": item["cost_coins"], "purchased_at": ts(t, x(), TS_MOSTLY_ISO),
                   "redeemed_at": ts(t + int(x() * 86_400), x(), TS_ISO) if redeemed else None}


_FOCUS_LENGTHS = (300, 600, 1500, 1500, 1500, 1800, 3000)


def focus_sessions(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        for _ in range(int(x() ** 1.5 * 21)):
            m = x()
            mode = "focus" if m < 0.75 else ("break" if m < 0.9 else "long_break")
            duration = pick(x, _FOCUS_LENGTHS) if mode == "focus" else (300 if mode == "break" else 900)
            start = u.when(x)
            s = x()
            status = ("completed" if s < 0.7 else "abandoned" if s < 0.85 else "expired" if s < 0.9
                      else "paused" if s < 0.97 else "active")
            if status in ("active", "paused"):  # only the latest sessions are still open
                start = NOW - int(x() * 3600) - duration
            elapsed = int(x() * duration)
            done = status == "completed"
            yield {
                "id": uuid(rng.getrandbits(128)), "user_id": u.id, "mode": mode, "duration": duration,
                "started_at": ts(start, x(), TS_MOSTLY_ISO),
                "completed_at": ts(start + duration + int(x() * 5), x(), TS_ISO) if done else None,
                "abandoned_at": ts(start + elapsed, x(), TS_ISO) if status == "abandoned" else None,
                "paused_at": ts(start + elapsed, x(), TS_ISO) if status == "paused" else None,
                "paused_remaining": duration - elapsed if status == "paused" else None,
                "expires_at": ts(start + duration, x(), TS_ISO) if x() < 0.9 else None,
                "status": status,
                "xp_awarded": duration // 60 if done and mode == "focus" else 0,
                "coins_awarded": duration // 150 if done and mode == "focus" else 0,
                "created_at": ts(start, x(), TS_MOSTLY_SQLITE),
            }


def focus_pause_state(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if x() >= 0.05:
            continue
        t = NOW - int(x() * 7200)
        yield {"id": f"pause_{u.id}", "user_id": u.id, "mode": pick(x, ("focus", "focus", "break")),
               "time_remaining": 60 + int(x() * 1400), "paused_at": ts(t, x(), TS_ISO),
               "created_at": ts(t, x(), TS_SQLITE), "updated_at": ts(t, x(), TS_MOSTLY_ISO)}


PASSES = {
    "authenticators": (None, None),  # no code writes it (OAuth only): expected empty
    "user_settings": (None, user_settings),
    "user_interests": (None, user_interests),
    "user_ui_modules": (None, user_ui_modules),
    "onboarding_flows": (onboarding_flows, None),
    "onboarding_steps": (onboarding_steps, None),
    "user_onboarding_state": (None, user_onboarding_state),
    "market_items": (market_items_catalog, market_items),
    "user_purchases": (None, user_purchases),
    "focus_sessions": (None, focus_sessions),
    "focus_pause_state": (None, focus_pause_state),
}

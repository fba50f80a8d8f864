"""The per-user skeleton, regenerated identically in every pass: who the user is, how many rows of
each core table they have, and the ids other tables refer to (habits, goals, workouts, books, …).

Nothing is kept between users or passes: a pass that needs a user's workout ids calls
``u.workouts(seed)``, which rebuilds them from the user's own stream for that family
(``f"{seed}:{i}:workouts"``), so every table sees the same ids without remembering them."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator

from d1pg.generate.catalogs import EXERCISE_IDS
from d1pg.generate.values import DAY, HISTORY_DAYS, NOW, rand36, stamps, uuid

FIRST = (
    ("Ada", "ada"), ("Zoë", "zoe"), ("José", "jose"), ("Łukasz", "lukasz"), ("Mia", "mia"),
    ("Noah", "noah"), ("Aiko", "aiko"), ("Søren", "soren"), ("Fatima", "fatima"), ("Liam", "liam"),
    ("Chloé", "chloe"), ("Mateo", "mateo"), ("Priya", "priya"), ("Ömer", "omer"), ("Grace", "grace"),
    ("Yusuf", "yusuf"), ("Elena", "elena"), ("Kai", "kai"), ("Nadia", "nadia"), ("Oliver", "oliver"),
    ("Léa", "lea"), ("Ravi", "ravi"), ("Ingrid", "ingrid"), ("Tomás", "tomas"),
)
LAST = (
    ("Müller", "muller"), ("García", "garcia"), ("Smith", "smith"), ("Nguyễn", "nguyen"),
    ("Kowalski", "kowalski"), ("O'Brien", "obrien"), ("Tanaka", "tanaka"), ("Johansson", "johansson"),
    ("Dubois", "dubois"), ("Rossi", "rossi"), ("Patel", "patel"), ("Yılmaz", "yilmaz"),
    ("Silva", "silva"), ("Novák", "novak"), ("Kim", "kim"), ("Andersen", "andersen"),
    ("李", "li"), ("Okafor", "okafor"), ("Schmidt", "schmidt"), ("Martin", "martin"),
)
BOOK_STATUSES = ("reading", "reading", "reading", "completed", "completed", "want-to-read", "want-to-read",
                 "abandoned", "dnf")
DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "users.example.org")


_REST = frozenset({"n_accounts", "n_sessions", "has_vt", "n_skills", "n_achievements", "has_wallet", "has_progress",
                   "xp", "coins", "stars", "prog_xp", "prog_coins", "n_ledger", "n_streaks", "n_events"})


class User:
    """User number ``i``. Who the user is (id, name, e-mail, creation time) comes from a hash of
    ``f"{seed}:{i}"``, cheap enough to rebuild in every pass; the sizes and values of the core tables
    (``n_ledger``, ``xp``, …) are drawn from ``random.Random(f"{seed}:{i}")`` on first use, by the
    passes that need them."""

    __slots__ = ("seed", "i", "m", "id", "first", "last", "domain", "created", *sorted(_REST))

    def __init__(self, seed: int, i: int, m: int = 1) -> None:
        h = hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=32).digest()
        self.seed = seed
        self.i = i
        self.m = m  # at least the number of users: time-based ids are unique modulo it (values.stamps)
        self.id = uuid(int.from_bytes(h[:16], "little"))
        self.first = FIRST[h[16] % len(FIRST)]
        self.last = LAST[h[17] % len(LAST)]
        self.domain = DOMAINS[h[18] % len(DOMAINS)]
        self.created = NOW - DAY - int.from_bytes(h[19:27], "little") % (HISTORY_DAYS * DAY)

    def __getattr__(self, name: str):
        if name not in _REST:
            raise AttributeError(name)
        self._draw_rest()
        return object.__getattribute__(self, name)

    def _draw_rest(self) -> None:
        r = random.Random(f"{self.seed}:{self.i}")
        x = r.random
        a = x()
        self.n_accounts = 0 if a < 0.05 else (2 if a > 0.95 else 1)
        self.n_sessions = int(x() * 3)
        self.has_vt = x() < 0.05
        self.n_skills = int(x() * 7)
        self.n_achievements = int(x() * 5)
        self.has_wallet = x() < 0.9
        self.has_progress = x() < 0.7
        self.xp = int(x() * 20_000)
        self.coins = int(x() * 3_000)
        self.stars = int(x() * 120)
        stale = x() < 0.3  # progress row written by an older code path: disagrees with the wallet
        self.prog_xp = self.xp - int(x() * 400) if stale else self.xp
        self.prog_coins = self.coins + int(x() * 200) - 100 if stale else self.coins
        self.n_ledger = int(x() * 21)
        self.n_streaks = int(x() * 5)
        self.n_events = int(x() * 21)

    @property
    def name(self) -> str:
        return f"{self.first[0]} {self.last[0]}"

    @property
    def email(self) -> str:
        return f"{self.first[1]}.{self.last[1]}.{self.i}@{self.domain}"

    @property
    def level(self) -> int:
        return 1 + self.xp // 1000

    def when(self, x: Callable[[], float]) -> int:
        """An instant (epoch seconds) between the user's creation and the backup."""
        return self.created + int(x() * (NOW - self.created))

    def stamps(self, times: list[int]) -> list[int]:
        """``Date.now()`` values for this user's rows of one table, unique across the table."""
        return stamps(times, self.i, self.m)

    def _family(self, seed: int, name: str) -> random.Random:
        return random.Random(f"{seed}:{self.i}:{name}")

    # -- families other tables refer to ----------------------------------------------------------

    def habits(self, seed: int) -> list[tuple[str, int, int]]:
        """The user's habits: (id, created epoch, number of logs)."""
        r = self._family(seed, "habits")
        out = []
        for _ in range(int(r.random() * 7)):
            hid = uuid(r.getrandbits(128))
            created = self.created + int(r.random() * (NOW - self.created) * 0.5)
            out.append((hid, created, int(r.random() * 12)))
        return out

    def goals(self, seed: int) -> list[tuple[str, int, int]]:
        """The user's goals: (id, created epoch, number of milestones)."""
        r = self._family(seed, "goals")
        out = []
        for _ in range(int(r.random() * 5)):
            gid = uuid(r.getrandbits(128))
            created = self.created + int(r.random() * (NOW - self.created))
            out.append((gid, created, int(r.random() * 4)))
        return out

    def custom_exercises(self, seed: int) -> list[tuple[str, int]]:
        """Exercises the user created through the exercise route: (``exercise_<ms>_<rand>``, ms)."""
        r = self._family(seed, "exercises")
        if r.random() >= 0.3:
            return []
        times = [self.when(r.random) for _ in range(1 + int(r.random() * 2))]
        return [(f"exercise_{ms}_{rand36(r)}", ms) for ms in self.stamps(times)]

    def exercise_pool(self, seed: int) -> list[str]:
        """The exercises the user's workouts and sets use: the catalog and their own."""
        return [*EXERCISE_IDS, *(e for e, _ in self.custom_exercises(seed))]

    def workouts(self, seed: int) -> list[tuple[str, int, list[str], int]]:
        """The user's workouts: (id, created ms, section ids, number of exercises)."""
        r = self._family(seed, "workouts")
        n = (0, 0, 0, 0, 1, 1, 1, 2, 2, 3)[int(r.random() * 10)]
        out = []
        for ms in self.stamps([self.when(r.random) for _ in range(n)]):
            wid = uuid(r.getrandbits(128)) if r.random() < 0.5 else f"workout_{ms}_{rand36(r)}"
            sections = [uuid(r.getrandbits(128)) for _ in range((0, 0, 1, 2, 2, 3)[int(r.random() * 6)])]
            out.append((wid, ms, sections, 2 + int(r.random() * 5)))
        return out

    def workout_sessions(self, seed: int) -> list[tuple[str, int, str | None, list[tuple[str, str]]]]:
        """The user's logged sessions: (id, started ms, workout id or None, ((set id, exercise id), ...))."""
        r = self._family(seed, "workout_sessions")
        n = int(r.random() ** 2 * 7)
        if not n:
            return []
        workouts = [w[0] for w in self.workouts(seed)]
        pool = self.exercise_pool(seed)
        out = []
        for ms in self.stamps([self.when(r.random) for _ in range(n)]):
            sid = uuid(r.getrandbits(128))
            wid = workouts[int(r.random() * len(workouts))] if workouts and r.random() < 0.75 else None
            picks = [pool[int(r.random() * len(pool))] for _ in range(1 + int(r.random() * 3))]
            # Lists, not tuples, for what varies in length: tuples of each length have a free list of
            # their own, which fills with the number of users and looks like growth to tracemalloc.
            sets = [(uuid(r.getrandbits(128)), ex) for ex in picks for _ in range(2 + int(r.random() * 3))]
            out.append((sid, ms, wid, sets))
        return out

    def programs(self, seed: int) -> list[tuple[str, int, int]]:
        """The user's training programs: (``prog_<ms>``, created ms, number of weeks)."""
        r = self._family(seed, "programs")
        n = 0 if r.random() >= 0.15 else (1 if r.random() < 0.8 else 2)
        return [(f"prog_{ms}", ms, 4 + int(r.random() * 5)) for ms in
                self.stamps([self.when(r.random) for _ in range(n)])]

    def books(self, seed: int) -> list[tuple[str, int, int, str]]:
        """The user's books: (``book_<ms>``, added ms, total pages (0: unknown, as the app stores it),
        status as the app writes it: ``want-to-read``, not ``want_to_read``)."""
        r = self._family(seed, "books")
        n = (0, 0, 0, 1, 1, 2, 2, 3, 4)[int(r.random() * 9)]
        return [(f"book_{ms}", ms, 0 if r.random() < 0.1 else 80 + int(r.random() * 600),
                 BOOK_STATUSES[int(r.random() * len(BOOK_STATUSES))])
                for ms in self.stamps([self.when(r.random) for _ in range(n)])]

    def quests(self, seed: int) -> list[tuple[str, int]]:
        """The user's own quests: (id, created ms); ids ``quest_<ms>_<rand>``, ``quest_<ms>`` or UUIDs."""
        r = self._family(seed, "quests")
        out = []
        for ms in self.stamps([self.when(r.random) for _ in range(int(r.random() ** 2 * 6))]):
            f = r.random()
            qid = f"quest_{ms}_{rand36(r)}" if f < 0.6 else (f"quest_{ms}" if f < 0.75 else uuid(r.getrandbits(128)))
            out.append((qid, ms))
        return out

    def tracks(self, seed: int) -> list[tuple[str, int]]:
        """The user's uploaded reference tracks: (``track_<ms>_<rand>``, uploaded ms)."""
        r = self._family(seed, "tracks")
        if r.random() >= 0.2:
            return []
        return [(f"track_{ms}_{rand36(r)}", ms) for ms in
                self.stamps([self.when(r.random) for _ in range(1 + int(r.random() * 3))])]


class Ctx:
    """One backup being written: its parameters, and the users, rebuilt on demand."""

    __slots__ = ("seed", "users", "dirty", "special", "m")

    def __init__(self, seed: int, users: int, dirty: float, special: dict[str, list[dict]] | None) -> None:
        self.seed, self.users, self.dirty, self.special = seed, users, dirty, special
        self.m = max(users, 1)

    def rng(self, table: str) -> random.Random:
        return random.Random(f"{self.seed}:table:{table}")

    def each_user(self) -> Iterator[User]:
        seed, m = self.seed, self.m
        for i in range(self.users):
            yield User(seed, i, m)

    def user(self, i: int) -> User | None:
        """User number ``i`` (the admins of the catalog rows are the first users), None if there is none."""
        return User(self.seed, i, self.m) if i < self.users else None

PRAGMA defer_foreign_keys=TRUE;
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT 'User',
    email TEXT NOT NULL UNIQUE,
    emailVerified INTEGER,
    image TEXT,
    role TEXT NOT NULL DEFAULT 'user',
    approved INTEGER NOT NULL DEFAULT 1,
    age_verified INTEGER NOT NULL DEFAULT 1,
    tos_accepted INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (datetime('now')),
    updated_at TEXT NOT NULL DEFAULT (datetime('now'))
);
INSERT INTO "users" ("id","name","email","emailVerified","image","role","approved","age_verified","tos_accepted","created_at","updated_at") VALUES('00000000-0000-4000-8000-000000000001','User 1','u1@example.com',0,NULL,'user',1,1,0,'2026-01-03 12:00:00','2026-01-04 12:00:00');
VACUUM INTO '/tmp/d1pg-vacuumed.db';

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
, avatar BLOB);
INSERT INTO "users" VALUES('00000000-0000-4000-8000-000000000001','User 1','u1@example.com',0,NULL,'user',1,1,0,'2026-01-03 12:00:00','2026-01-04 12:00:00',NULL);
INSERT INTO "users" VALUES('00000000-0000-4000-8000-000000000002','User 2','u2@example.com',0,NULL,'user',1,1,0,'2026-01-03 12:00:00','2026-01-04 12:00:00',X'89504E47');
INSERT INTO "users" VALUES('00000000-0000-4000-8000-000000000003',replace('Three\nlines, ''quoted''','\n',char(10)),'u3@example.com',0,NULL,'user',1,1,0,'2026-01-03 12:00:00','2026-01-04 12:00:00',NULL);
CREATE INDEX users_email ON users(email);

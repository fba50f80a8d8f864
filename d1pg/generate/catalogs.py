"""Catalog rows: the seed rows of ``0100_master_reset.sql`` (its INSERTs, columns it leaves out at
their defaults) and the catalogs other code fills (the exercise seed script, admin routes).

Each catalog is a tuple of rows in the table's column order (``SELECT *``), built once."""

from __future__ import annotations

from d1pg.generate.values import CATALOG_CREATED as C

# -- 0100's INSERTs ------------------------------------------------------------------------------


def _market(id_, key, name, description, category, cost, icon, consumable, order):
    return {"id": id_, "key": key, "name": name, "description": description, "category": category,
            "cost_coins": cost, "icon": icon, "is_global": 1, "is_available": 1, "is_active": 1,
            "is_consumable": consumable, "sort_order": order, "created_by_user_id": None, "created_at": C}


MARKET_ITEMS = (
    _market("item_theme_dark", "theme_dark_pro", "Dark Pro Theme", "A premium dark theme", "themes", 100, "moon", 0, 1),
    _market("item_theme_ocean", "theme_ocean", "Ocean Theme", "Calm ocean-inspired colors", "themes", 100, "waves",
            0, 2),
    _market("item_boost_xp", "boost_xp_2x", "2x XP Boost", "Double XP for 1 hour", "boosts", 50, "zap", 1, 3),
    _market("item_boost_coins", "boost_coins_2x", "2x Coins Boost", "Double coins for 1 hour", "boosts", 50, "coins",
            1, 4),
    _market("item_treat_coffee", "treat_coffee", "Virtual Coffee", "Treat yourself to a virtual coffee", "treats", 25,
            "coffee", 1, 5),
    _market("item_badge_early", "badge_early_adopter", "Early Adopter Badge", "Show your early supporter status",
            "badges", 200, "star", 0, 6),
)

ONBOARDING_FLOWS = (
    {"id": "flow_main_v1", "version": 1, "name": "Main Onboarding",
     "description": "Primary onboarding flow for new users", "is_active": 1, "total_steps": 10, "created_at": C},
)


def _step(id_, order, step_type, title, description, route, options, multiple, required):
    return {"id": id_, "flow_id": "flow_main_v1", "step_order": order, "step_type": step_type, "title": title,
            "description": description, "target_selector": None, "target_route": route,
            "fallback_content": None, "options_json": options, "allows_multiple": multiple, "required": required,
            "action_type": None, "action_config_json": None}


ONBOARDING_STEPS = (
    _step("step_1_welcome", 1, "explain", "Welcome to Ignition",
          "A starter engine to help you begin with minimal friction.", "/today", None, 0, 0),
    _step("step_2_interests", 2, "choice", "What interests you?", "Select up to 3 areas you want to focus on.", None,
          '["focus","fitness","learning","music","habits","creativity"]', 1, 1),
    _step("step_3_intensity", 3, "preference", "How should we nudge you?", "Choose your preferred intensity level.",
          None, '{"options":["gentle","standard","energetic"],"default":"standard"}', 0, 1),
    _step("step_4_focus_intro", 4, "tour", "Focus Sessions", "Start a timed focus session to build momentum.",
          "/focus", None, 0, 0),
    _step("step_5_quests_intro", 5, "tour", "Quests", "Small, completable tasks to keep you moving.", "/quests",
          None, 0, 0),
    _step("step_6_ignitions", 6, "tour", "Ignitions", "Quick starters when you need a spark.", "/ignitions", None,
          0, 0),
    _step("step_7_progress", 7, "tour", "Your Progress", "See your skills grow over time.", "/progress", None, 0, 0),
    _step("step_8_focus_duration", 8, "preference", "Default Focus Duration",
          "How long should focus sessions be by default?", None,
          '{"options":[300,600,1500,1800],"default":300,"labels":["5 min","10 min","25 min","30 min"]}', 0, 0),
    _step("step_9_gamification", 9, "preference", "Rewards Visibility",
          "How visible should points and rewards be?", None,
          '{"options":["always","subtle","hidden"],"default":"always"}', 0, 0),
    _step("step_10_complete", 10, "action", "Ready to Begin", "Start your first focus session or explore.", "/today",
          '{"action_type":"complete_onboarding"}', 0, 0),
)
STEP_IDS = tuple(s["id"] for s in ONBOARDING_STEPS)
INTERESTS = ("focus", "fitness", "learning", "music", "habits", "creativity")


def _topic(id_, key, name, description, category, icon, order):
    return {"id": id_, "key": key, "name": name, "description": description, "category": category, "icon": icon,
            "sort_order": order, "created_at": C}


LEARN_TOPICS = (
    _topic("topic_intervals", "intervals", "Intervals", "Learn to identify and understand musical intervals",
           "ear_training", "music", 1),
    _topic("topic_chords", "chords", "Chords", "Understand chord types and progressions", "ear_training", "layers", 2),
    _topic("topic_scales", "scales", "Scales & Modes", "Major, minor, and modal scales", "theory", "sliders", 3),
    _topic("topic_rhythm", "rhythm", "Rhythm", "Time signatures, subdivisions, and feel", "theory", "clock", 4),
    _topic("topic_harmony", "harmony", "Harmony", "Chord functions and voice leading", "theory", "git-merge", 5),
    _topic("topic_production", "production", "Production Basics", "DAW fundamentals and workflow", "production",
           "sliders", 6),
)


def _drill(id_, topic, key, title, description, drill_type, config, difficulty, seconds, xp, order):
    return {"id": id_, "topic_id": topic, "key": key, "title": title, "description": description,
            "drill_type": drill_type, "config_json": config, "difficulty": difficulty, "duration_seconds": seconds,
            "xp_reward": xp, "sort_order": order, "created_at": C}


LEARN_DRILLS = (
    _drill("drill_intervals_asc", "topic_intervals", "intervals_ascending", "Ascending Intervals",
           "Identify intervals played ascending", "interval",
           '{"direction":"ascending","range":["m2","M2","m3","M3","P4","P5"]}', "beginner", 120, 10, 1),
    _drill("drill_intervals_desc", "topic_intervals", "intervals_descending", "Descending Intervals",
           "Identify intervals played descending", "interval",
           '{"direction":"descending","range":["m2","M2","m3","M3","P4","P5"]}', "beginner", 120, 10, 2),
    _drill("drill_intervals_harm", "topic_intervals", "intervals_harmonic", "Harmonic Intervals",
           "Identify intervals played together", "interval",
           '{"direction":"harmonic","range":["m2","M2","m3","M3","P4","P5","m6","M6","m7","M7","P8"]}',
           "intermediate", 120, 15, 3),
    _drill("drill_chords_triads", "topic_chords", "chord_triads", "Triad Types",
           "Identify major, minor, diminished, augmented", "chord",
           '{"types":["major","minor","diminished","augmented"]}', "beginner", 120, 10, 1),
    _drill("drill_chords_7th", "topic_chords", "chord_sevenths", "Seventh Chords", "Identify 7th chord types", "chord",
           '{"types":["maj7","min7","dom7","dim7","m7b5"]}', "intermediate", 120, 15, 2),
    _drill("drill_rhythm_basic", "topic_rhythm", "rhythm_basic", "Basic Rhythms", "Tap along with simple rhythms",
           "rhythm", '{"subdivisions":["quarter","eighth"],"tempo":100}', "beginner", 90, 10, 1),
    _drill("drill_note_id", "topic_intervals", "note_identification", "Note Identification", "Identify notes by ear",
           "note", '{"range":["C3","C5"],"chromatic":false}', "beginner", 120, 10, 4),
)
DRILL_IDS = tuple(d["id"] for d in LEARN_DRILLS)


def _quest(id_, title, description, category, xp, coins):
    return {"id": id_, "user_id": None, "title": title, "description": description, "category": category,
            "difficulty": "starter", "xp_reward": xp, "coin_reward": coins, "is_universal": 1, "is_active": 1,
            "status": "available", "accepted_at": None, "completed_at": None, "expires_at": None,
            "is_repeatable": 0, "repeat_frequency": None, "last_completed_date": None, "streak_count": 0,
            "created_at": C}


QUESTS = (
    _quest("quest_first_focus", "Complete a Focus Session", "Start and complete a 5-minute focus session", "focus",
           25, 10),
    _quest("quest_explore_app", "Explore the App", "Visit 3 different sections of the app", "exploration", 15, 5),
    _quest("quest_set_goal", "Set a Goal", "Create your first goal", "planning", 20, 10),
    _quest("quest_try_ignition", "Try an Ignition", "Use an ignition pack to get started", "starter", 15, 5),
    _quest("quest_ear_training", "Train Your Ears", "Complete an ear training drill", "learning", 20, 10),
)


def _uq(id_, title, description, type_, xp, coins, target):
    return {"id": id_, "title": title, "description": description, "type": type_, "xp_reward": xp,
            "coin_reward": coins, "target": target, "skill_id": None, "is_active": 1, "created_by": None,
            "created_at": C, "updated_at": C}


UNIVERSAL_QUESTS = (
    _uq("uq_focus_1", "Complete a Focus Session", "Finish one focus session today", "daily", 25, 10, 1),
    _uq("uq_focus_3", "Focus Hat Trick", "Complete 3 focus sessions today", "daily", 50, 20, 3),
    _uq("uq_habit_1", "Check In", "Log at least one habit today", "daily", 15, 5, 1),
    _uq("uq_learn_1", "Learn Something New", "Complete a lesson or drill", "daily", 20, 10, 1),
    _uq("uq_workout_1", "Get Moving", "Complete a workout session", "daily", 30, 15, 1),
    _uq("uq_weekly_focus", "Focus Master", "Complete 10 focus sessions this week", "weekly", 100, 50, 10),
    _uq("uq_weekly_habits", "Habit Champion", "Log habits 5 days this week", "weekly", 75, 35, 5),
    _uq("uq_weekly_learn", "Knowledge Seeker", "Complete 5 lessons this week", "weekly", 80, 40, 5),
)
UQ_IDS = tuple(q["id"] for q in UNIVERSAL_QUESTS)


def _pack(id_, key, name, description, category, items, icon, order):
    return {"id": id_, "key": key, "name": name, "description": description, "category": category,
            "items_json": items, "icon": icon, "sort_order": order, "created_at": C}


IGNITION_PACKS = (
    _pack("pack_5min_reset", "5min_reset", "5-Minute Reset", "Quick activities to reset your mind", "starter",
          '["Stand up and stretch","Take 5 deep breaths","Drink a glass of water","Look out a window",'
          '"Clear your desk"]', "refresh", 1),
    _pack("pack_creative_spark", "creative_spark", "Creative Spark", "Get your creative juices flowing", "creative",
          '["Open your DAW and load a new project","Play random chords for 2 minutes","Hum a melody and record it",'
          '"Listen to a song you love","Sketch an idea on paper"]', "lightbulb", 2),
    _pack("pack_movement", "movement", "Movement Break", "Get your body moving", "fitness",
          '["Do 10 jumping jacks","Walk around for 2 minutes","Stretch your neck and shoulders","Do 5 squats",'
          '"Take the stairs"]', "activity", 3),
    _pack("pack_focus_prep", "focus_prep", "Focus Prep", "Prepare for deep work", "focus",
          '["Close unnecessary tabs","Put phone on DND","Get water ready","Set your intention","Start a timer"]',
          "target", 4),
)


def _shortcut(id_, daw, category, action, mac, win, description, order):
    return {"id": id_, "daw": daw, "category": category, "action": action, "shortcut_mac": mac,
            "shortcut_win": win, "description": description, "sort_order": order}


DAW_SHORTCUTS = (
    _shortcut("abl_play", "ableton", "transport", "Play/Stop", "Space", "Space", "Toggle playback", 1),
    _shortcut("abl_record", "ableton", "transport", "Record", "F9", "F9", "Start recording", 2),
    _shortcut("abl_undo", "ableton", "edit", "Undo", "Cmd+Z", "Ctrl+Z", "Undo last action", 3),
    _shortcut("abl_duplicate", "ableton", "edit", "Duplicate", "Cmd+D", "Ctrl+D", "Duplicate selection", 4),
    _shortcut("abl_split", "ableton", "edit", "Split Clip", "Cmd+E", "Ctrl+E", "Split clip at playhead", 5),
    # Added later through the admin content route (readable ids too).
    _shortcut("abl_consolidate", "ableton", "edit", "Consolidate", "Cmd+J", "Ctrl+J", "Consolidate selection", 6),
    _shortcut("fl_pattern_song", "fl_studio", "transport", "Pattern/Song mode", "L", "L", None, 1),
    _shortcut("logic_cycle", "logic", "transport", "Cycle on/off", "C", None, "Toggle cycle area", 1),
)


def _term(id_, term, definition, category, related):
    return {"id": id_, "term": term, "definition": definition, "category": category, "related_terms": related,
            "created_at": C}


GLOSSARY_TERMS = (
    _term("gloss_bpm", "BPM", "Beats Per Minute - the tempo of a song", "production", "tempo,rhythm"),
    _term("gloss_eq", "EQ", "Equalization - adjusting frequency balance", "mixing", "frequency,mixing"),
    _term("gloss_compression", "Compression", "Dynamic range reduction", "mixing", "dynamics,loudness"),
    _term("gloss_reverb", "Reverb", "Simulated room reflections", "effects", "delay,space"),
    _term("gloss_sidechain", "Sidechain", "Using one signal to control another", "production", "compression,ducking"),
)

# -- other catalogs ------------------------------------------------------------------------------

ADMIN_GLOSSARY = (
    # term, definition, category, related terms: added through the admin content route (glossary_<ms>)
    ("LUFS", "Loudness Units relative to Full Scale – integrated loudness", "mastering", "loudness,metering"),
    ("Sägezahn", "Sawtooth wave (German): bright, buzzy oscillator shape", "synthesis", None),
    ("Headroom", "Space between the peak level and 0 dBFS", "mixing", ""),
)
ADMIN_PACKS = (
    # key, name, description, category, items: added through the admin content route (ignition_<ms>)
    ("late_night_loop", "Late-Night Loop", "One loop before bed", "creative",
     ["Pick one drum sample", "Make a 4-bar loop", "Bounce it 🎧"]),
)

LESSONS = (
    # topic, key, title, minutes, difficulty, skill_key, audio
    ("topic_intervals", "intervals_intro", "What is an interval?", 5, "beginner", "knowledge", True),
    ("topic_intervals", "intervals_thirds", "Major and minor thirds", 7, "beginner", "knowledge", True),
    ("topic_intervals", "intervals_tritone", "The tritone", 6, "intermediate", None, False),
    ("topic_chords", "chords_triads", "Building triads", 8, "beginner", "knowledge", True),
    ("topic_chords", "chords_sevenths", "Seventh chords", 10, "intermediate", "creativity", False),
    ("topic_scales", "scales_major", "The major scale", 5, "beginner", None, False),
    ("topic_scales", "scales_modes", "Modes of the major scale", 12, "advanced", "creativity", True),
    ("topic_rhythm", "rhythm_subdivisions", "Subdivisions", 6, "beginner", None, False),
    ("topic_rhythm", "rhythm_swing", "Swing and groove", 9, "intermediate", "production", True),
    ("topic_harmony", "harmony_functions", "Tonic, subdominant, dominant", 10, "intermediate", "knowledge", False),
    ("topic_production", "production_gain", "Gain staging", 8, "beginner", "production", True),
    ("topic_production", "production_sidechain", "Sidechain compression", 11, "intermediate", "production", True),
)
LESSON_IDS = tuple(f"lesson_{lesson[1]}" for lesson in LESSONS)

EXERCISES = (
    # catalog id (resources/exercises.json), name, category, muscle groups, equipment: the seed script
    # (scripts/seed-exercises.mjs) writes comma lists and plain text, '' / 'none' when missing
    ("barbell_bench_press", "Barbell Bench Press - Medium Grip", "strength", "chest,triceps,shoulders", "barbell"),
    ("barbell_squat", "Barbell Full Squat", "strength", "quadriceps,glutes,hamstrings", "barbell"),
    ("deadlift", "Barbell Deadlift", "strength", "lower back,hamstrings,glutes", "barbell"),
    ("pullups", "Pullups", "strength", "lats,biceps", "body only"),
    ("pushups", "Pushups", "strength", "chest,triceps", "body only"),
    ("dumbbell_curl", "Dumbbell Bicep Curl", "strength", "biceps", "dumbbell"),
    ("overhead_press", "Standing Military Press", "strength", "shoulders,triceps", "barbell"),
    ("plank", "Plank", "strength", "abdominals", "body only"),
    ("kettlebell_swing", "One-Arm Kettlebell Swings", "plyometrics", "hamstrings,glutes,shoulders", "kettlebells"),
    ("box_jump", "Box Jump (Multiple Response)", "plyometrics", "hamstrings,quadriceps,calves", "other"),
    ("rowing_machine", "Rowing, Stationary", "cardio", "quadriceps,lats,middle back", "machine"),
    ("running_treadmill", "Running, Treadmill", "cardio", "quadriceps", "machine"),
    ("jump_rope", "Rope Jumping", "cardio", "calves,quadriceps", "other"),
    ("hip_flexor_stretch", "Kneeling Hip Flexor", "stretching", "quadriceps", "none"),
    ("childs_pose", "Child's Pose", "stretching", "lower back,lats", "none"),
    ("cat_stretch", "Cat Stretch", "stretching", "", "none"),
    ("lat_pulldown", "Wide-Grip Lat Pulldown", "strength", "lats", "cable"),
    ("leg_press", "Leg Press", "strength", "quadriceps,glutes", "machine"),
)
EXERCISE_IDS = tuple(f"ex_{e[0]}" for e in EXERCISES)
WEIGHTED = frozenset(f"ex_{e[0]}" for e in EXERCISES if e[4] not in ("body only", "none", "other", "machine"))

RECIPES = (
    # name, description, category, genre, steps, tips
    ("Four-on-the-floor starter", "A house groove in ten minutes", "drums", "house",
     ["Kick on every beat", "Clap on 2 and 4", "Open hat on the off-beat", "Add a shaker at 1/16"],
     "Keep the kick mono."),
    ("Lo-fi chord bed", "Dusty chords with movement", "harmony", "lo-fi",
     ["Pick a maj7 progression", "Add vinyl noise", "Low-pass at 4 kHz", "Sidechain to the kick"], None),
    ("Supersaw lead", "A wide trance lead", "sound design", "trance",
     ["7 saw voices, detune 30%", "Unison spread 80%", "Reverb 2.5 s", "Delay 1/8 dotted"],
     "Automate the filter in the breakdown."),
)

D1_MIGRATIONS = (
    # wrangler's history of the database: the migrations applied, in order (d1_migrations)
    "0001_create_tables.sql", "0002_user_settings.sql", "0003_focus_and_workouts.sql", "0004_access_requests.sql",
    "0005_habits_goals.sql", "0006_focus_pause.sql", "0007_universal_quests.sql", "0008_learning_suite.sql",
    "0009_infobase.sql", "0010_planner.sql", "0011_books.sql", "0012_market.sql", "0013_gamification.sql",
    "0014_add_performance_indexes.sql", "0019_drop_all_tables.sql", "0020_schema_reset_v2.sql",
    "0023_learn_content.sql", "0024_reference_tracks.sql", "0025_onboarding.sql", "0026_market_v2.sql",
    "0027_track_analysis.sql", "0100_master_reset.sql",
)

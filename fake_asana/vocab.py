"""Words the generated data is made of."""
from __future__ import annotations

FIRST_NAMES = ("Ada", "Bruno", "Chen", "Dana", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kemi",
               "Lars", "Maya", "Nikhil", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
               "Wen", "Xavier", "Yara", "Zeke")
LAST_NAMES = ("Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak", "Haddad", "Kowalski", "Murphy",
              "Rossi", "Schmidt", "Nguyen", "Petrov", "Ibrahim", "Garcia", "Berg", "Costa", "Dubois")
TASK_VERBS = ("Draft", "Review", "Fix", "Update", "Design", "Plan", "Ship", "Test", "Write", "Migrate",
              "Audit", "Refactor", "Prepare", "Schedule", "Document", "Clean up", "Estimate", "Merge")
TASK_OBJECTS = ("onboarding flow", "Q3 roadmap", "billing page", "release notes", "API docs", "login bug",
                "data export", "brand guidelines", "sprint retro", "pricing table", "search index",
                "vendor contract", "launch email", "customer survey", "error budget", "dashboard",
                "mobile nav", "SLA report", "hiring plan", "webhook retries")
PROJECT_WORDS = ("Apollo", "Beacon", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Indigo",
                 "Juniper", "Keystone", "Lumen", "Meridian", "Nimbus", "Orbit", "Polaris", "Quartz",
                 "Redwood", "Summit", "Tundra")
PROJECT_KINDS = ("Launch", "Redesign", "Migration", "Roadmap", "Research", "Onboarding", "Campaign",
                 "Platform", "Integration", "Cleanup")
TEAM_NAMES = ("Engineering", "Marketing", "Design", "Sales", "Operations", "Support", "Finance", "People",
              "Data", "Security", "Legal", "Product")
TAG_NAMES = ("urgent", "blocked", "quick-win", "customer", "bug", "idea", "waiting", "backend", "frontend",
             "legal", "q1", "q2", "review", "needs-design", "docs", "infra", "ops", "research")
SECTION_NAMES = ("Backlog", "To do", "In progress", "Review", "Done", "Later", "Untitled section")
MY_TASKS_SECTIONS = ("Recently assigned", "Do today", "Do next week", "Do later")
COLORS = ("dark-pink", "dark-green", "dark-blue", "dark-red", "dark-teal", "dark-brown", "dark-orange",
          "dark-purple", "dark-warm-gray", "light-pink", "light-green", "light-blue", "light-red",
          "light-teal", "light-brown", "light-orange", "light-purple", "light-warm-gray")
ENUM_COLORS = ("red", "orange", "yellow-orange", "yellow", "yellow-green", "green", "blue-green", "aqua",
               "blue", "indigo", "purple", "magenta", "hot-pink", "pink", "cool-gray", "none")
#: Asana's sticker names (`StoryResponse.sticker_name`).
STICKERS = ("dancing_unicorn", "people_waving_flags", "splashing_narwhal", "determined_climbers", "celebrating_people",
            "green_checkmark", "people_dancing", "yeti_riding_unicorn")
#: Reactions: (emoji base, its variants).
EMOJI = (("👍", ("👍", "👍🏻", "👍🏽", "👍🏿")), ("🎉", ("🎉",)), ("❤️", ("❤️",)), ("👀", ("👀",)),
         ("🙌", ("🙌", "🙌🏼", "🙌🏾")), ("😂", ("😂",)))
COMMENTS = ("Looks good to me.", "Can we push this to next week?", "Blocked on the vendor reply.",
            "I added the numbers to the sheet.", "Let's discuss this in standup.", "Done, please double-check.",
            "Who owns this now?", "Ping me when the build is green.", "Customer asked about this again.",
            "Moving the deadline, see thread.", "Great work on this!", "Needs one more review pass.")
NOTES = ("Context and acceptance criteria are in the linked doc.", "Keep scope small; follow-ups go to the backlog.",
         "See last week's notes for the decision.", "", "Owner to confirm the date with stakeholders.",
         "Steps:\n1. reproduce\n2. fix\n3. add a test")
STATUS_TITLES = ("On track", "At risk: vendor delay", "Off track", "Wrapping up", "Kickoff done")
PHRASE_WORDS = (("6", "sad", "squid", "snuggle", "softly"), ("3", "brave", "bears", "bake", "briskly"),
                ("9", "odd", "owls", "orbit", "openly"), ("2", "tiny", "tigers", "tango", "tirelessly"))

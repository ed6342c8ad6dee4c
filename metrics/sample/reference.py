"""Reference data of the sample: queues, markets, sites, schedules, SLA policies, specialists,
root causes and enforcement recipes (the knobs of the six planted stories).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

SAMPLE_END_DATE = dt.date(2026, 11, 22)
DEFAULT_SEED = 7
DEFAULT_APPEALS = 50_000
WEEKS = 26

TS = pl.Datetime("us", "UTC")
HOUR = 3600.0
DAY = 86400.0


# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------

QUEUES = ("account_suspension", "listing_removal", "livestream_ban", "payments_hold", "ip_counterfeit")
Q_ACC, Q_LIST, Q_LIVE, Q_PAY, Q_IP = range(5)
QUEUE_SHARE = np.array([0.22, 0.33, 0.14, 0.12, 0.19])
# share of enforcements that get appealed, per queue
APPEAL_RATE = np.array([0.22, 0.12, 0.18, 0.30, 0.14])
# P0..P3 mix per queue
PRIORITY_MIX = np.array(
    [
        [0.04, 0.22, 0.49, 0.25],
        [0.01, 0.12, 0.55, 0.32],
        [0.05, 0.25, 0.45, 0.25],
        [0.03, 0.30, 0.45, 0.22],
        [0.02, 0.15, 0.50, 0.33],
    ]
)
PRIORITIES = ("P0", "P1", "P2", "P3")
SELLER_SHARE = np.array([0.35, 0.97, 0.85, 0.70, 0.98])
EVIDENCE_RATE = np.array([0.25, 0.30, 0.20, 0.45, 0.50])
ESCALATION_RATE = np.array([0.07, 0.04, 0.08, 0.05, 0.10])
# escalation target mix (policy, legal, product) per queue
ESCALATION_MIX = np.array(
    [
        [0.60, 0.20, 0.20],
        [0.55, 0.20, 0.25],
        [0.70, 0.15, 0.15],
        [0.40, 0.35, 0.25],
        [0.25, 0.65, 0.10],
    ]
)
ESCALATION_TARGETS = ("policy", "legal", "product")
OVERTURN_BASE = np.array([0.14, 0.12, 0.16, 0.15, 0.11])

MARKETS = ("US", "GB", "DE", "IE", "PL", "AU")
MARKET_SHARE = np.array([0.36, 0.14, 0.13, 0.05, 0.11, 0.21])
MARKET_TZ = (
    "America/Chicago",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Dublin",
    "Europe/Warsaw",
    "Australia/Sydney",
)
LANGUAGES = ("en", "es", "de", "pl", "ga")
# language mix per market, columns as LANGUAGES
LANGUAGE_MIX = np.array(
    [
        [0.90, 0.10, 0.00, 0.00, 0.00],
        [1.00, 0.00, 0.00, 0.00, 0.00],
        [0.10, 0.00, 0.90, 0.00, 0.00],
        [0.97, 0.00, 0.00, 0.00, 0.03],
        [0.12, 0.00, 0.00, 0.88, 0.00],
        [1.00, 0.00, 0.00, 0.00, 0.00],
    ]
)
CHANNELS = ("in_app", "web_form", "email")
CHANNEL_SHARE = np.array([0.58, 0.29, 0.13])
# local hour-of-day profile of appeal submissions (evening peak)
# fmt: off
HOUR_PROFILE = np.array([
    0.55, 0.35, 0.22, 0.15, 0.12, 0.15, 0.3, 0.55, 0.8, 0.95, 1.0, 1.05,  # 00-11
    1.1, 1.05, 1.0, 1.0, 1.05, 1.15, 1.3, 1.5, 1.6, 1.55, 1.3, 0.9,  # 12-23
])
# fmt: on
WEEKDAY_PROFILE = np.array([1.18, 1.06, 1.0, 0.98, 0.95, 0.86, 0.9])  # Monday..Sunday

S_PHX, S_DUB = 0, 1
QUEUE_HOME_SITE = np.array([S_PHX, S_DUB, S_PHX, S_PHX, S_DUB])
OVERFLOW_SHARE = 0.07  # appeals routed to the other site's specialists

SCHEDULES: dict[str, tuple[str, list[tuple[tuple[int, ...], str, str]]]] = {
    # 17 h on weekdays in two shifts, the late one ends at midnight (stored as 00:00)
    "phoenix": (
        "America/Phoenix",
        [((1, 2, 3, 4, 5), "06:00", "14:00"), ((1, 2, 3, 4, 5), "15:00", "00:00"), ((6,), "08:00", "16:00")],
    ),
    # split shift with a lunch break, and a Saturday morning
    "dublin": (
        "Europe/Dublin",
        [((1, 2, 3, 4, 5), "08:00", "12:00"), ((1, 2, 3, 4, 5), "13:00", "17:00"), ((6,), "09:00", "13:00")],
    ),
}

# (queue, priority, first touch h, resolution h, clock, schedule)
SLA_POLICY_ROWS = [
    ("*", "P0", 1.0, 24.0, "calendar", None),
    ("*", "P1", 4.0, 48.0, "calendar", None),
    ("*", "P2", 8.0, 40.0, "business", "phoenix"),
    ("*", "P3", 16.0, 80.0, "business", "phoenix"),
    ("payments_hold", "P1", 2.0, 24.0, "calendar", None),
    ("listing_removal", "P2", 8.0, 32.0, "business", "dublin"),
    ("listing_removal", "P3", 16.0, 64.0, "business", "dublin"),
    ("ip_counterfeit", "P1", 4.0, 72.0, "calendar", None),
    ("ip_counterfeit", "P2", 8.0, 40.0, "business", "dublin"),
    ("ip_counterfeit", "P3", 16.0, 80.0, "business", "dublin"),
]

# (id, display name, pod, team lead, site, active_from, active_to)
SPECIALISTS = [
    ("sp_001", "Jordan Reyes", "phx-alpha", "Dana Whitfield", "phoenix", "2023-03-06", None),
    ("sp_002", "Priya Natarajan", "phx-alpha", "Dana Whitfield", "phoenix", "2023-05-15", None),
    ("sp_003", "Luis Carmona", "phx-alpha", "Dana Whitfield", "phoenix", "2024-01-08", None),
    ("sp_004", "Hannah Cole", "phx-alpha", "Dana Whitfield", "phoenix", "2024-02-19", None),
    ("sp_005", "DeShawn Parker", "phx-alpha", "Dana Whitfield", "phoenix", "2024-06-03", None),
    ("sp_006", "Mei Lin", "phx-alpha", "Dana Whitfield", "phoenix", "2024-09-09", None),
    ("sp_007", "Tyler Brooks", "phx-alpha", "Dana Whitfield", "phoenix", "2023-11-13", "2026-09-30"),
    ("sp_008", "Alejandra Ruiz", "phx-alpha", "Dana Whitfield", "phoenix", "2025-01-06", None),
    ("sp_009", "Kevin O'Hara", "phx-bravo", "Marcus Bell", "phoenix", "2023-04-17", None),
    ("sp_010", "Samantha Price", "phx-bravo", "Marcus Bell", "phoenix", "2024-03-11", None),
    ("sp_011", "Omar Haddad", "phx-bravo", "Marcus Bell", "phoenix", "2024-07-22", None),
    ("sp_012", "Brianna Scott", "phx-bravo", "Marcus Bell", "phoenix", "2025-02-03", None),
    ("sp_013", "Ethan Nguyen", "phx-bravo", "Marcus Bell", "phoenix", "2025-04-14", None),
    ("sp_014", "Grace Kim", "phx-bravo", "Marcus Bell", "phoenix", "2025-08-25", None),
    ("sp_015", "Noah Jensen", "phx-bravo", "Marcus Bell", "phoenix", "2026-08-03", None),
    ("sp_016", "Aisling Murphy", "dub-liffey", "Aoife Brennan", "dublin", "2023-02-20", None),
    ("sp_017", "Conor Walsh", "dub-liffey", "Aoife Brennan", "dublin", "2023-06-05", None),
    ("sp_018", "Katarzyna Zielinska", "dub-liffey", "Aoife Brennan", "dublin", "2023-09-18", None),
    ("sp_019", "Lukas Becker", "dub-liffey", "Aoife Brennan", "dublin", "2024-01-15", None),
    ("sp_020", "Niamh Doyle", "dub-liffey", "Aoife Brennan", "dublin", "2024-04-08", None),
    ("sp_021", "Pawel Kowalski", "dub-liffey", "Aoife Brennan", "dublin", "2024-05-27", None),
    ("sp_022", "Sophie Laurent", "dub-liffey", "Aoife Brennan", "dublin", "2024-10-14", None),
    ("sp_023", "Ciaran Byrne", "dub-spire", "Tomasz Nowak", "dublin", "2023-08-14", None),
    ("sp_024", "Anna Schmidt", "dub-spire", "Tomasz Nowak", "dublin", "2024-02-05", "2026-08-14"),
    ("sp_025", "Declan Farrell", "dub-spire", "Tomasz Nowak", "dublin", "2024-06-17", None),
    ("sp_026", "Magdalena Wojcik", "dub-spire", "Tomasz Nowak", "dublin", "2024-11-04", None),
    ("sp_027", "Roisin Kelly", "dub-spire", "Tomasz Nowak", "dublin", "2025-03-10", None),
    ("sp_028", "Jonas Weber", "dub-spire", "Tomasz Nowak", "dublin", "2025-06-23", None),
    ("sp_029", "Eimear Nolan", "dub-spire", "Tomasz Nowak", "dublin", "2025-09-01", None),
    ("sp_030", "Marta Lewandowska", "dub-spire", "Tomasz Nowak", "dublin", "2026-07-06", None),
]
SP_IDS = np.array([s[0] for s in SPECIALISTS])
SP_SITE = np.array([0 if s[4] == "phoenix" else 1 for s in SPECIALISTS])
OUTLIER_SPECIALIST = "sp_012"  # story 3: overturns far more often than peers
OUTLIER_FACTOR = 2.6
HOLIDAY_CAPACITY = 0.25  # story 5: share of the Dublin site at work in the rest of the holiday week
DRIFT_PER_WEEK = 0.6  # story 4: payments_hold work takes 1.6x, 2.2x, ... 4.6x as long
QA_REVIEWERS = ("qa_01", "qa_02", "qa_03", "qa_04")

OUTCOMES = ("upheld", "overturned", "partially_overturned")
ROOT_CAUSES = (
    "agent_error",
    "policy_misapplied",
    "automation_false_positive",
    "new_evidence",
    "policy_changed",
    "tooling_defect",
    "insufficient_evidence",
)
RC_AGENT, RC_MISAPPLIED, RC_AFP, RC_NEW_EV, RC_CHANGED, RC_TOOLING, RC_INSUFF = range(7)
# root-cause mix of overturns, by enforcement source
RC_MIX_AUTOMATED = np.array([0.03, 0.15, 0.45, 0.15, 0.06, 0.06, 0.10])
RC_MIX_HUMAN = np.array([0.42, 0.24, 0.00, 0.14, 0.05, 0.05, 0.10])
RC_MIX_LAUNCH = np.array([0.10, 0.30, 0.10, 0.10, 0.35, 0.02, 0.03])

# enforcement recipes per queue: (policy, source, enforced_by or "agent", weight)
FP_MODEL = "cv-counterfeit-v3.3"
BASE_COUNTERFEIT_MODEL = "cv-counterfeit-v3.2"
LAUNCH_POLICY = "giveaway_rules"
ENFORCEMENT_RECIPES: dict[int, list[tuple[str, str, str, float]]] = {
    Q_ACC: [
        ("shill_bidding", "automated", "bid-anomaly-v1.4", 0.22),
        ("harassment", "human", "agent", 0.18),
        ("payment_fraud", "automated", "risk-payments-v5.0", 0.15),
        ("ban_evasion", "automated", "linkage-graph-v2.2", 0.12),
        ("impersonation", "human", "agent", 0.13),
        ("harassment", "automated", "nlp-harassment-v2.1", 0.10),
        ("prohibited_item", "human", "agent", 0.10),
    ],
    Q_LIST: [
        ("counterfeit", "automated", BASE_COUNTERFEIT_MODEL, 0.40),
        ("prohibited_item", "automated", "cv-prohibited-v2.7", 0.25),
        ("prohibited_item", "human", "agent", 0.15),
        ("counterfeit", "human", "agent", 0.10),
        ("misleading_listing", "human", "agent", 0.10),
    ],
    Q_LIVE: [
        ("harassment", "automated", "nlp-harassment-v2.1", 0.30),
        ("live_conduct", "human", "agent", 0.30),
        ("prohibited_item", "human", "agent", 0.20),
        ("live_conduct", "automated", "live-guard-v1.0", 0.20),
    ],
    Q_PAY: [
        ("payment_fraud", "automated", "risk-payments-v5.0", 0.55),
        ("payment_fraud", "human", "agent", 0.20),
        ("off_platform_payment", "human", "agent", 0.15),
        ("shill_bidding", "automated", "bid-anomaly-v1.4", 0.10),
    ],
    Q_IP: [
        ("counterfeit", "human", "agent", 0.45),
        ("counterfeit", "automated", "ip-match-v1.9", 0.35),
        ("trademark", "human", "agent", 0.20),
    ],
}
# enforcements of the new policy after the launch (story 2): (policy, source, enforced_by, weight)
LAUNCH_RECIPE = [(LAUNCH_POLICY, "automated", "live-guard-v1.1", 0.6), (LAUNCH_POLICY, "human", "agent", 0.4)]
N_AGENTS = 60

"""Free text of the sample: appeal statements in five languages, decision and internal notes,
and fictional personal data (names, e-mails, phone numbers) for the redaction paths.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from metrics.sample.draws import _gather, _pick, _pick_grouped
from metrics.sample.lifecycle import N_DECISION, N_ESCALATION, N_GUIDANCE, N_INTERNAL, N_NONE
from metrics.sample.reference import (
    CHANNELS,
    LANGUAGES,
    Q_ACC,
    Q_IP,
    Q_LIST,
    Q_LIVE,
    Q_PAY,
    RC_AFP,
    RC_AGENT,
    RC_CHANGED,
    RC_INSUFF,
    RC_MISAPPLIED,
    RC_NEW_EV,
    RC_TOOLING,
)

# --------------------------------------------------------------------------------------------
# Free text
# --------------------------------------------------------------------------------------------

FIRST_NAMES = [
    "jane",
    "mike",
    "sarah",
    "tom",
    "li",
    "anna",
    "kai",
    "olga",
    "ben",
    "fiona",
    "raj",
    "marta",
    "sean",
    "chloe",
    "diego",
    "emma",
    "jakub",
    "lena",
    "noah",
    "zoe",
]
LAST_NAMES = [
    "doe",
    "smith",
    "murphy",
    "nowak",
    "muller",
    "garcia",
    "chen",
    "okafor",
    "byrne",
    "kowalski",
    "wright",
    "schneider",
    "patel",
    "kelly",
    "brown",
]
EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "mail.test"]
HANDLES = [
    "cardking",
    "sneakervault",
    "retro.finds",
    "poke_breaks",
    "luxe_resale",
    "vintagevera",
    "slabcity",
    "kicksbykai",
    "coinsandmore",
    "thriftqueen",
    "breakroom_live",
    "grailhunter",
]
# fictional numbering ranges (555-01xx, Ofcom drama, ACMA drama) where a market has one
PHONE_PREFIX = [
    "+1 602 555 01",
    "+44 7700 900",
    "+49 30 23125 ",
    "+353 20 910 ",
    "+48 22 000 0",
    "+61 491 570 ",
]
PHONE_DIGITS = np.array([2, 3, 3, 4, 3, 3])

ITEMS = [
    "a PSA 10 Charizard",
    "a sealed Evolving Skies booster box",
    "Jordan 1 Retro High OG",
    "a Rolex Submariner",
    "vintage Levi's 501s",
    "a Nintendo Switch OLED",
    "a signed Topps Chrome rookie card",
    "a Supreme box logo hoodie",
    "an iPhone 15 Pro",
    "a Funko Pop grail",
    "a 1st edition Blue-Eyes White Dragon",
    "a Louis Vuitton Neverfull",
    "a Yeezy 350",
    "a graded Michael Jordan rookie",
    "an Air Max 1",
    "a Casio G-Shock",
    "a Lego Millennium Falcon",
]
SUSPENSION_REASONS = [
    "shill bidding",
    "harassment in chat",
    "ban evasion",
    "payment fraud",
    "impersonation",
    "multiple accounts",
    "chargeback abuse",
    "bid manipulation",
]
SHOWS = [
    "Pokemon pack break",
    "sneaker auction",
    "vintage clothing show",
    "card break",
    "giveaway stream",
    "coin and bullion auction",
    "mystery box opening",
    "electronics flash sale",
]
AMOUNTS = [
    "$312.40",
    "$1,250.00",
    "£480.00",
    "€2,075.50",
    "$89.99",
    "$5,430.00",
    "€640.00",
    "A$1,180.00",
    "3,200 zł",
    "$760.25",
    "$14,900.00",
    "£95.00",
]
SLOTS = {Q_ACC: SUSPENSION_REASONS, Q_LIST: ITEMS, Q_LIVE: SHOWS, Q_PAY: AMOUNTS, Q_IP: ITEMS}
CORE_EN = {
    Q_ACC: [
        ("my account was suspended for ", " but I have never done that."),
        ("I was banned for ", " and I don't understand why."),
        ("you suspended me saying ", ". That is simply not true."),
        ("my account got locked for ", " right before my scheduled show."),
        ("I got an email that my account is suspended for ", ". I think this is a mistake."),
    ],
    Q_LIST: [
        ("my listing for ", " was removed as counterfeit but it is authentic."),
        ("you took down ", " from my shop. It was bought from an authorised retailer."),
        ("the listing for ", " was removed as a prohibited item, it is not prohibited."),
        ("", " got flagged and removed within minutes of posting."),
        ("why was my listing for ", " removed? I have the original receipt and box."),
    ],
    Q_LIVE: [
        ("my stream got banned in the middle of a ", "."),
        ("I was running a ", " and the stream was shut down with no warning."),
        ("live ban during my ", ", I followed every rule."),
        ("my ", " was cut off and now I can't go live for 7 days."),
        ("the moderator ended my ", " for something a viewer said, not me."),
    ],
    Q_PAY: [
        ("my payout of ", " has been on hold for days."),
        ("funds of ", " from my last show are frozen and I need them to pay suppliers."),
        ("you are holding ", " of my money with no explanation."),
        ("payment hold on ", ". The buyer already received the item."),
        ("the ", " payout was held as suspected fraud, it was a normal sale."),
    ],
    Q_IP: [
        ("I got an IP complaint about ", ". I only buy from authorised distributors."),
        ("", " was removed after a rights-owner notice, but it is genuine."),
        ("the brand reported my listing for ", ". I can prove authenticity."),
        ("the counterfeit takedown on ", " is wrong, I have the invoice."),
    ],
}
OPENERS_EN = [
    "",
    "",
    "Hi, ",
    "Hello, ",
    "Hi team, ",
    "Dear Trust & Safety, ",
    "To whom it may concern: ",
    "Hey. ",
    "Good morning, ",
    "Please read this: ",
]
DETAILS_EN = [
    "",
    "",
    "",
    "I have receipts.",
    "I attached photos.",
    "This is my main income.",
    "I have been selling here for 3 years with no strikes.",
    "Other sellers list the exact same thing.",
    "I already sent the invoice by email.",
    "This has happened twice now.",
    "My customers are waiting.",
    "I am happy to send more proof.",
    "I run a small business and this is killing my sales.",
]
PLEAS_EN = [
    "Please review.",
    "Please reinstate.",
    "Please fix this asap.",
    "Thank you.",
    "Kindly reverse this decision.",
    "Thanks in advance.",
    "I want a real person to look at this.",
    "Please help.",
    "",
]
# statements in other languages, per queue
OTHER_LANG = {
    "de": {
        Q_ACC: [
            "Mein Konto wurde ohne Grund gesperrt. Bitte prüfen Sie das noch einmal.",
            "Hallo, ich verstehe die Sperre meines Kontos nicht. Ich habe nie mit mir selbst geboten.",
        ],
        Q_LIST: [
            "Mein Angebot wurde als Fälschung entfernt, die Ware ist original. Rechnung liegt vor.",
            "Warum wurde mein Artikel gelöscht? Das ist kein verbotener Artikel.",
        ],
        Q_LIVE: [
            "Mein Livestream wurde mitten in der Auktion beendet. Ich habe keine Regel verletzt.",
            "Die Live-Sperre ist ungerecht, der Kommentar kam von einem Zuschauer.",
        ],
        Q_PAY: [
            "Meine Auszahlung wird seit Tagen zurückgehalten. Bitte geben Sie das Geld frei.",
            "Das Geld aus meiner letzten Show ist eingefroren, der Käufer hat die Ware erhalten.",
        ],
        Q_IP: [
            "Die Markenbeschwerde ist falsch, ich kaufe nur bei autorisierten Händlern.",
            "Der Artikel ist echt, ich habe die Rechnung vom Großhändler.",
        ],
    },
    "pl": {
        Q_ACC: [
            "Moje konto zostało zablokowane bez powodu. Proszę o ponowne sprawdzenie.",
            "Dzień dobry, nie rozumiem blokady konta. Nigdy nie licytowałem własnych aukcji.",
        ],
        Q_LIST: [
            "Moja oferta została usunięta jako podróbka, a produkt jest oryginalny. Mam fakturę.",
            "Dlaczego usunięto moją ofertę? To nie jest zakazany przedmiot.",
        ],
        Q_LIVE: [
            "Transmisja na żywo została przerwana w trakcie aukcji. Nie złamałem żadnych zasad.",
            "Blokada transmisji jest niesprawiedliwa, komentarz napisał widz.",
        ],
        Q_PAY: [
            "Moja wypłata jest wstrzymana od kilku dni. Proszę o odblokowanie środków.",
            "Pieniądze z ostatniego pokazu są zamrożone, kupujący otrzymał towar.",
        ],
        Q_IP: [
            "Skarga dotycząca znaku towarowego jest błędna, kupuję tylko u autoryzowanych dystrybutorów.",
            "Produkt jest oryginalny, mam fakturę od hurtownika.",
        ],
    },
    "es": {
        Q_ACC: [
            "Mi cuenta fue suspendida sin motivo. Por favor revisen de nuevo.",
            "No entiendo la suspensión, nunca hice pujas falsas.",
        ],
        Q_LIST: [
            "Eliminaron mi anuncio como falsificación pero el producto es original. Tengo la factura.",
            "¿Por qué eliminaron mi anuncio? No es un artículo prohibido.",
        ],
        Q_LIVE: [
            "Cortaron mi transmisión en vivo en medio de la subasta. No rompí ninguna regla.",
            "El bloqueo del directo es injusto, el comentario fue de un espectador.",
        ],
        Q_PAY: [
            "Mi pago está retenido desde hace días. Necesito ese dinero.",
            "Los fondos de mi último show están congelados y el comprador ya recibió el artículo.",
        ],
        Q_IP: [
            "La queja de marca es falsa, solo compro a distribuidores autorizados.",
            "El producto es auténtico, tengo la factura del distribuidor.",
        ],
    },
}

DECISION_UPHELD = {
    Q_ACC: [
        "Upheld. Linked accounts confirm ban evasion; template D-2 sent.",
        "Upheld: bidding pattern matches shill bidding playbook (same device as seller).",
        "Upheld, chat logs confirm targeted harassment of a buyer.",
    ],
    Q_LIST: [
        "Upheld: listing photos match known counterfeit markers; no proof of purchase.",
        "Upheld. Item is on the prohibited list (section 4.2), appeal adds nothing new.",
        "Upheld - receipts provided do not match the item serials.",
    ],
    Q_LIVE: [
        "Upheld: stream recording shows the violation at 00:41.",
        "Upheld. Repeat live conduct violation, third strike in 90 days.",
        "Upheld, giveaway required a purchase which the rules forbid.",
    ],
    Q_PAY: [
        "Upheld: payment pattern matches fraud playbook, hold remains.",
        "Upheld. Buyer chargebacks open on 4 orders, hold stays until resolved.",
        "Upheld - off-platform payment request visible in chat.",
    ],
    Q_IP: [
        "Upheld: rights-owner notice valid and seller could not show authorisation.",
        "Upheld. Trademark used in title without licence.",
        "Upheld, invoice is from a known grey-market supplier.",
    ],
}
DECISION_UPHELD_GENERIC = [
    "Upheld after full review, enforcement stands.",
    "Upheld. Evidence checked against the playbook, violation confirmed.",
    "Upheld; explained the policy to the user with template D-1.",
    "Upheld, no new information in the appeal.",
]
DECISION_TIMEOUT = [
    "No response to the evidence request within 5 days; upheld.",
    "Upheld: requested documents never received.",
    "Closing as upheld, user did not reply to the evidence request.",
]
DECISION_BY_ROOT = {
    RC_AGENT: [
        "Overturned: original reviewer misread the chat log.",
        "Agent applied the wrong policy section; reinstating.",
        "Reinstated - enforcing agent missed the proof of authorisation already on file.",
        "Original decision was an agent error, evidence clearly supports the user.",
    ],
    RC_MISAPPLIED: [
        "Policy misapplied: the item is allowed under the collectibles exception.",
        "Overturned. The rule cited does not cover resale of sealed product.",
        "Enforcement used the wrong policy; behaviour is within guidelines.",
        "Misapplication of the giveaway rules, the stream followed the allowed format.",
    ],
    RC_AFP: [
        "Overturned: automated match was a false positive, item is authentic (serial verified).",
        "Model flagged a genuine item; invoice from authorised distributor checked. Reinstated.",
        "False positive from the classifier - photos show the hologram and authentic stitching.",
        "Automation false positive; nothing in the listing matches counterfeit markers.",
        "Reinstated. Classifier hit on the brand logo only, product is genuine.",
    ],
    RC_NEW_EV: [
        "User supplied receipts and serials; overturned on new evidence.",
        "New evidence: authenticity certificate provided and verified.",
        "Bank statement shows a legitimate sale; hold released.",
        "User sent ID and proof of ownership, reinstated.",
    ],
    RC_CHANGED: [
        "Overturned: policy updated since enforcement, behaviour now permitted.",
        "The new giveaway rules allow this format; reinstated.",
        "Under the revised guidance this is no longer a violation.",
    ],
    RC_TOOLING: [
        "Tooling defect: enforcement applied to the wrong listing id.",
        "Bulk action tool removed the whole shop instead of one listing; reversed.",
        "Duplicate enforcement from the moderation console bug; reversed.",
    ],
    RC_INSUFF: [
        "Original enforcement lacked evidence; overturned.",
        "Not enough evidence to support the action, reinstated per evidence standard ES-3.",
        "Could not verify the violation from the records available; overturned.",
    ],
}
DECISION_OVERTURN_UNCODED = [
    "Overturned after review.",
    "Reinstated, see case history.",
    "Overturned - user explanation accepted.",
    "Reversed; details in the previous note.",
]
PARTIAL_PREFIX = [
    "Partially overturned: ",
    "Partial - strike removed, restriction stays. ",
    "Reduced to a warning. ",
]
BADGE_NOTES = [
    "Seller verification badge not shown on the storefront at enforcement time; seller is verified. Reinstated.",
    "Verification badge missing from the seller profile although KYC passed, the badge did not render. Overturned.",
    "Account flagged as unverified because the verification badge was not displayed in the live header. Seller verified since 2024.",
    "Same issue as other cases this week: verification badge not shown, impersonation flag was wrong. Reinstated.",
    "Seller is verified in admin but the verification badge was not visible to buyers; suspension reversed.",
    "Verification badge not displaying after the profile redesign, impersonation reports unfounded. Reinstated.",
    "seller verification badge not shown in app (web shows it). buyers reported as fake shop. reversed",
]
INTERNAL_NOTES = [
    "Checked linked accounts, none found.",
    "Prior strikes: 2 in the last 90 days.",
    "Waiting for payments team to confirm chargeback status.",
    "Pulled the stream recording, reviewing 00:42-01:05.",
    "Compared photos with the brand authentication guide.",
    "User has an open support ticket as well, linked.",
    "Top-rated seller, handle with care.",
    "Brought to case council, see thread.",
    "Used the translation tool for the appeal text.",
    "Checked order history: 312 sales, 0 disputes.",
]
GUIDANCE_NOTES = {
    0: [
        "Policy guidance received: treat as allowed.",
        "Policy says enforce per section 3.2.",
        "Policy: edge case, decide on the evidence.",
    ],
    1: [
        "Legal confirmed the notice is valid.",
        "Legal: no action needed from us, proceed.",
        "Legal advised to reinstate pending the dispute.",
    ],
    2: [
        "Product confirmed a display bug on their side.",
        "Product: known issue, fix scheduled.",
        "Product found no tooling problem.",
    ],
}
ESCALATION_NOTES = {
    0: [
        "Unclear if this format is allowed, asking Policy.",
        "Escalating to Policy: edge case for graded card resale.",
    ],
    1: ["Rights-owner dispute, escalating to Legal.", "Legal review needed: user threatens legal action."],
    2: [
        "Possible tooling issue, escalating to Product.",
        "UI shows a different state than admin, asking Product.",
    ],
}


def _pii(rng: np.random.Generator, market: np.ndarray) -> tuple[pl.Series, pl.Series, pl.Series]:
    n = len(market)
    email = (
        _pick(rng, n, FIRST_NAMES)
        + "."
        + _pick(rng, n, LAST_NAMES)
        + pl.Series(rng.integers(1, 99, n)).cast(pl.String)
        + "@"
        + _pick(rng, n, EMAIL_DOMAINS)
    )
    digits = PHONE_DIGITS[market]
    number = pl.Series(rng.integers(0, 10_000, n) % (10**digits)).cast(pl.String)
    phone = pl.select(
        pl.lit(pl.Series(np.array(PHONE_PREFIX)[market], dtype=pl.String))
        + number.str.zfill(pl.Series(digits, dtype=pl.Int64).cast(pl.UInt64))
    ).to_series()
    handle = "@" + _pick(rng, n, HANDLES) + pl.Series(rng.integers(1, 999, n)).cast(pl.String)
    return email, phone, handle


def _appeal_text(rng: np.random.Generator, ap: dict) -> pl.Series:
    n = len(ap["queue"])
    q = ap["queue"]
    opener = _pick(rng, n, OPENERS_EN)
    core_flat, core_idx = _pick_grouped(rng, q, [[c[0] for c in CORE_EN[i]] for i in range(5)])
    post_flat = pl.Series([c[1] for i in range(5) for c in CORE_EN[i]], dtype=pl.String)
    pre = core_flat.gather(core_idx)
    post = post_flat.gather(core_idx)
    slot = _gather(rng, q, [SLOTS[i] for i in range(5)])
    detail = _pick(rng, n, DETAILS_EN)
    plea = _pick(rng, n, PLEAS_EN)
    email, phone, handle = _pii(rng, ap["market"])
    c = rng.random(n)
    contact = pl.select(
        pl.when(pl.lit(pl.Series(c < 0.05)))
        .then(" Contact me at " + email + ".")
        .when(pl.lit(pl.Series(c < 0.09)))
        .then(" My number is " + phone + ".")
        .when(pl.lit(pl.Series(c < 0.13)))
        .then(" My shop is " + handle + ".")
        .when(pl.lit(pl.Series(c < 0.15)))
        .then(" Reach me on " + phone + " or " + email + ".")
        .otherwise(pl.lit(""))
    ).to_series()
    df = pl.DataFrame(
        {
            "opener": opener,
            "pre": pre,
            "slot": slot,
            "post": post,
            "detail": detail,
            "plea": plea,
            "contact": contact,
        }
    )
    en = df.select(
        pl.concat_str(
            [
                pl.col("opener"),
                pl.col("pre"),
                pl.col("slot"),
                pl.col("post"),
                pl.lit(" "),
                pl.col("detail"),
                pl.lit(" "),
                pl.col("plea"),
                pl.col("contact"),
            ]
        )
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    ).to_series()
    # capitalise the first letter most of the time; some users type in lower case
    lower = pl.Series(rng.random(n) < 0.12)
    en = pl.select(
        pl.when(lower)
        .then(en.str.to_lowercase())
        .otherwise(en.str.slice(0, 1).str.to_uppercase() + en.str.slice(1))
    ).to_series()
    lang = np.array(LANGUAGES)[ap["language"]]
    out = en
    # statements in other languages carry the bare contact detail
    bare = pl.select(
        pl.when(pl.lit(pl.Series(c < 0.05)))
        .then(" " + email)
        .when(pl.lit(pl.Series(c < 0.09)))
        .then(" " + phone)
        .when(pl.lit(pl.Series(c < 0.13)))
        .then(" " + handle)
        .when(pl.lit(pl.Series(c < 0.15)))
        .then(" " + phone + ", " + email)
        .otherwise(pl.lit(""))
    ).to_series()
    for code, pools in OTHER_LANG.items():
        mask = lang == code
        if mask.any():
            other = _gather(rng, q, [pools[i] for i in range(5)]) + bare
            out = pl.select(pl.when(pl.Series(mask)).then(other).otherwise(out)).to_series()
    # a few appeals come without a statement (in-app form left empty)
    empty = (rng.random(n) < 0.04) & (ap["channel"] != CHANNELS.index("email"))
    return pl.select(pl.when(pl.Series(empty)).then(None).otherwise(out)).to_series().rename("appeal_text")


def _notes(rng: np.random.Generator, ev: dict, queue: np.ndarray, market: np.ndarray) -> pl.Series:
    m = len(ev["time"])
    note_class, group = ev["note_kind"], ev["note_group"]
    outcome, root = ev["outcome"], ev["root"]
    # one pool index per event: pools in a fixed order, every event picks in its own pool
    pools: list[list[str]] = [[""]]  # 0: no note
    pool_of = np.zeros(m, dtype=np.int64)

    def add_pool(texts, mask):
        pools.append(texts)
        pool_of[mask] = len(pools) - 1

    add_pool(INTERNAL_NOTES, note_class == N_INTERNAL)
    for t in range(3):
        add_pool(GUIDANCE_NOTES[t], (note_class == N_GUIDANCE) & (group == t))
        add_pool(ESCALATION_NOTES[t], (note_class == N_ESCALATION) & (group == t))
    dec = note_class == N_DECISION
    for qi in range(5):
        add_pool(DECISION_UPHELD[qi] + DECISION_UPHELD_GENERIC, dec & (outcome == 0) & (queue == qi))
    add_pool(DECISION_TIMEOUT, dec & (outcome == 0) & (group == -3))
    for rc, texts in DECISION_BY_ROOT.items():
        add_pool(texts, dec & (outcome > 0) & (root == rc))
    add_pool(DECISION_OVERTURN_UNCODED, dec & (outcome > 0) & (root == -1))
    add_pool(BADGE_NOTES, dec & (outcome > 0) & (group == -2))
    text = _gather(rng, pool_of, pools)
    prefix = _pick(rng, m, PARTIAL_PREFIX)
    email, phone, _ = _pii(rng, market)
    c = rng.random(m)
    suffix = pl.select(
        pl.when(pl.Series(c < 0.025))
        .then(" User contact: " + email + ".")
        .when(pl.Series(c < 0.04))
        .then(" Called the user on " + phone + ".")
        .otherwise(pl.lit(""))
    ).to_series()
    partial = pl.Series((outcome == 2) & dec & (group != -2))
    note = pl.select(pl.when(partial).then(prefix + text).otherwise(text) + suffix).to_series()
    has_note = pl.Series((note_class != N_NONE) & ~(dec & (rng.random(m) < 0.04)))
    return pl.select(pl.when(has_note).then(note).otherwise(None)).to_series().rename("note")

"""Personal data in free text (metrics.redact.redact_personal): adversarial formats are masked,
and the numbers that are not personal data (record ids, dates, times, amounts, counts) survive."""

from __future__ import annotations

import polars as pl
import pytest

from metrics.redact import redact_frame_texts, redact_personal

MASKED = [
    # e-mails: plain, plus-addressing, sub-domains, unicode local parts and domains, obfuscated
    ("write to jane.doe+appeals@mail.example.co.uk today", "write to [email] today"),
    ("müller.zoë@beispiel.de", "[email]"),
    ("contact: JANE.DOE@EXAMPLE.COM.", "contact: [email]."),
    ("jane [at] example [dot] com", "[email]"),
    ("jane(at)example.com", "[email]"),
    ("jane at example dot com", "[email]"),
    ("ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "[email]"),  # full-width forms read as ASCII (NFKC)
    # phones: international, national, dotted, bracketed, non-breaking spaces, 00 prefix
    ("Called the user on +44 7700 900123.", "Called the user on [phone]."),
    ("call +1 (602) 555-0168 now", "call [phone] now"),
    ("ring 0044 20 7946 0958", "ring [phone]"),
    ("mobile 0176.1234.5678", "mobile [phone]"),
    ("tel: (030) 2312 5123", "tel: [phone]"),
    ("tel +49\u00a030\u00a023125\u00a0123", "tel [phone]"),
    ("０１７６ １２３４５６７８", "[phone]"),  # full-width digits
    # card-like numbers: grouped, hyphenated, bare, Amex 15 digits, a typo that fails Luhn
    ("card 4111 1111 1111 1111 declined", "card [card] declined"),
    ("card 4111-1111-1111-1111", "card [card]"),
    ("4111111111111111", "[card]"),
    ("amex 3782 822463 10005", "amex [card]"),
    ("typo 4111 1111 1111 1112", "typo [card]"),
    # handles: with digits, underscores and dots; not the @ of an e-mail
    ("ping @grailhunter12 on live", "ping [handle] on live"),
    ("seller @breakroom_live.", "seller [handle]."),
    ("@kicks.by.kai said", "[handle] said"),
    # user ids in links: path segments and query keys, any scheme case
    ("see https://shop.example.com/users/98765/listings", "see [user-link]"),
    ("HTTPS://Example.com/u/jane_doe", "[user-link]"),
    ("profile www.example.com/profile/abc123?tab=1", "profile [user-link]"),
    ("link https://x.example/p?id=1&user_id=555&x=2 ok", "link [user-link] ok"),
    ("https://admin.example.com/seller/7788", "[user-link]"),
]

KEPT = [
    "appeal ap_0000001 and sp_012 reviewed on 2026-11-16 at 14:05",
    "events 2026-11-16T14:05:00Z to 2026-11-22T23:58:00+00:00",
    "decided 16.11.2026, reopened 22/11/2026",
    "third strike in 90 days; 3 listings; W47",
    "refund $1,250.00 and €99.95, ratio 0.875",
    "order 123456 and ticket #48213",  # six-digit order ids are not phone numbers
    "policy v1.2.0 taxonomy v3",
    "enforcement enf_0012345 by model clf-2026.11",
    "https://help.example.com/policies/counterfeit#evidence",  # a link without a user id
    "",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_personal_data_is_masked(text, expected):
    assert redact_personal(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_numbers_that_are_not_personal_data_survive(text):
    assert redact_personal(text) == text


def test_none_and_mixed_text():
    assert redact_personal(None) == ""
    mixed = ("Overturned ap_0000123 (2026-11-16): user jane.doe@example.com / +44 7700 900123 / @jane_d, "
             "card 4111 1111 1111 1111, https://shop.example.com/users/42")
    assert redact_personal(mixed) == ("Overturned ap_0000123 (2026-11-16): user [email] / [phone] / [handle], "
                                      "card [card], [user-link]")


def test_redaction_is_idempotent():
    once = redact_personal("mail jane@example.com, call +1 602 555 0168, @kai")
    assert redact_personal(once) == once


def test_frames_redact_their_text_columns_only():
    frame = pl.DataFrame({"appeal_id": ["ap_0000001", "ap_0000002"],
                          "decision_note": ["mail jane@example.com", None], "queue": ["q@x.com", "b"]})
    out = redact_frame_texts(frame)
    assert out["decision_note"].to_list() == ["mail [email]", None]
    assert out["appeal_id"].to_list() == ["ap_0000001", "ap_0000002"]
    assert out["queue"].to_list() == ["q@x.com", "b"]  # not a free-text column

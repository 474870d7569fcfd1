import hmac

import pytest

from leads.threading import _signature, lead_id_from_address, new_message_id, reply_address, reply_subject


def test_reply_address_round_trips_to_its_lead():
    address = reply_address(4321)
    assert address.startswith("internet+L4321-") and address.endswith("@maplemotors.example")
    assert lead_id_from_address(f"Internet Sales <{address}>") == 4321


def test_forged_or_missing_tokens_are_refused():
    forged = reply_address(4321).replace("L4321", "L4322")
    assert lead_id_from_address(forged) is None
    assert lead_id_from_address("internet@maplemotors.example") is None


def test_a_reply_address_mailed_before_the_secret_key_changed_still_brings_the_answer_back(settings):
    mailed = reply_address(4321)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" + "x" * 50, [settings.SECRET_KEY]
    assert lead_id_from_address(mailed) == 4321
    assert reply_address(4321) != mailed  # new mail is signed with the new key
    settings.SECRET_KEY_FALLBACKS = []
    assert lead_id_from_address(mailed) is None  # once the former key is dropped, it no longer counts


def test_an_empty_key_signs_nothing_and_an_empty_former_key_is_passed_over(settings):
    """An empty key is never the current one in disguise, nor a key anyone could sign with."""
    with pytest.raises(ValueError):
        _signature(4321, key="")
    mailed = reply_address(4321)
    settings.SECRET_KEY_FALLBACKS = [""]
    assert lead_id_from_address(mailed) == 4321
    forged = hmac.new(b"", b"lead-reply:4321", "sha256").hexdigest()[:10]
    assert lead_id_from_address(f"internet+L4321-{forged}@maplemotors.example") is None


def test_message_ids_are_unique_and_in_the_store_domain():
    first, second = new_message_id(7), new_message_id(7)
    assert first != second and first.startswith("<lead7.") and first.endswith("@maplemotors.example>")


def test_an_answer_takes_the_customers_subject_once_whatever_their_mail_program_put_before_it():
    assert reply_subject("Price of the 2024 RAV4") == "Re: Price of the 2024 RAV4"
    for answered in ("RE: Re: Prix", "RE : Prix", "Réf. : Prix", "TR: Prix", "Fwd: Re[2]: Prix", " re:Prix "):
        assert reply_subject(answered) == "Re: Prix", answered
    assert reply_subject("Réf. 1234 pour le RAV4") == "Re: Réf. 1234 pour le RAV4"  # a reference, kept
    assert reply_subject("Recall notice") == "Re: Recall notice"
    # The tag the customer's company mail server put on our last mail, which it will put again.
    assert reply_subject("[EXTERNAL] RE: Price") == reply_subject("RE: [EXT] Price") == "Re: Price"
    assert reply_subject("") == reply_subject("Re: ") == ""

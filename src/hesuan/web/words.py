"""Registry rejections in words: each rule code as a sentence a person can act on.

The codes and the rules are the registry's (:class:`hesuan.registry.domain.codes.Rejection`);
this module only phrases them. A code without a sentence here is shown with the registry's
own message.
"""

from __future__ import annotations

from hesuan.registry.domain.codes import Rejection
from hesuan.web.i18n import _, lazy

SENTENCES: dict[Rejection, str] = {
    Rejection.token_must_be_valid: lazy("The API token is unknown or has expired."),
    Rejection.token_must_exist: lazy("There is no token with that fingerprint."),
    Rejection.token_must_belong_to_actor: lazy("That token belongs to another party."),
    Rejection.token_must_not_be_revoked: lazy("That token was revoked already."),
    Rejection.token_lifetime_must_lie_in_1_3650_days: lazy(
        "A token's lifetime is 1 to 3650 days."),
    Rejection.token_label_must_fit_100_characters: lazy(
        "A token's label has at most 100 characters."),
    Rejection.role_must_permit_operation: lazy("Your role does not allow this operation."),
    Rejection.account_must_belong_to_actor: lazy("That account belongs to another party."),
    Rejection.account_must_exist: lazy("There is no account with that number."),
    Rejection.project_must_exist: lazy("There is no project with that number."),
    Rejection.retirement_must_exist: lazy("There is no retirement with that number."),
    Rejection.serial_must_exist: lazy("No unit with that serial number has been issued."),
    Rejection.serial_must_be_well_formed: lazy(
        "The serial number is not in a format the registry reads."),
    Rejection.quantity_must_be_positive: lazy("The quantity must be a whole number above zero."),
    Rejection.accounts_must_be_different: lazy(
        "The sending and the receiving account must be different."),
    Rejection.account_kind_must_permit_operation: lazy(
        "Units cannot be moved this way from or to that kind of account."),
    Rejection.serial_range_must_lie_in_one_held_block: lazy(
        "The serial range must lie inside one block that the account holds."),
    Rejection.quantity_must_not_exceed_balance: lazy(
        "The account does not hold that many units."),
    Rejection.retired_or_cancelled_units_must_not_move: lazy(
        "Retired or cancelled units can never move again."),
    Rejection.units_must_be_authorised_for_purpose: lazy(
        "These units are not authorised by the host country for that purpose."),
    Rejection.claim_period_must_be_ordered: lazy(
        "The claim period must end on or after the day it starts."),
    Rejection.quantity_must_span_at_most_10000_blocks: lazy(
        "One operation may take units from at most 10 000 blocks."),
    Rejection.idempotency_key_must_match_payload: lazy(
        "This form was already sent with other values; reload the page and try again."),
    Rejection.text_must_not_be_empty: lazy("A required text is empty."),
    Rejection.date_must_be_iso_8601: lazy("A date is not a valid date (YYYY-MM-DD)."),
    Rejection.page_limit_must_lie_in_1_500: lazy("A page holds 1 to 500 rows."),
}


def sentence(code: Rejection) -> str:
    """Return the translated sentence for ``code`` (empty if none is written)."""
    text = SENTENCES.get(code)
    return _(text) if text else ""

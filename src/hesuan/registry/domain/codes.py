"""Rejection codes: every expected refusal of the registry, phrased as the rule it enforces.

Each use case checks its rules in a fixed, documented order (the order of the checks in
``hesuan.registry.service``) and stops at the first broken one, so that the same request
always gets the same code — the TigerBeetle habit (``state_machine.zig``, ``create_transfer``).
The API maps each code to one HTTP status with :data:`HTTP_STATUS`.
"""

from __future__ import annotations

from enum import StrEnum

from hesuan.errors import HesuanError


class Rejection(StrEnum):
    """A rule the request broke. The value is the stable, machine-readable code."""

    # authentication and authorisation
    token_must_be_valid = "token_must_be_valid"
    token_must_exist = "token_must_exist"
    token_must_belong_to_actor = "token_must_belong_to_actor"
    token_must_not_be_revoked = "token_must_not_be_revoked"
    token_lifetime_must_lie_in_1_3650_days = "token_lifetime_must_lie_in_1_3650_days"
    token_label_must_fit_100_characters = "token_label_must_fit_100_characters"
    role_must_permit_operation = "role_must_permit_operation"
    account_must_belong_to_actor = "account_must_belong_to_actor"
    verifier_must_not_be_proponent = "verifier_must_not_be_proponent"
    admin_role_must_stand_alone = "admin_role_must_stand_alone"
    role_must_be_known = "role_must_be_known"
    role_must_not_be_held = "role_must_not_be_held"
    role_must_be_held = "role_must_be_held"
    party_must_keep_a_role = "party_must_keep_a_role"
    authority_must_be_of_host_country = "authority_must_be_of_host_country"
    # idempotency
    idempotency_key_must_be_given = "idempotency_key_must_be_given"
    idempotency_key_must_match_payload = "idempotency_key_must_match_payload"
    # existence
    party_must_exist = "party_must_exist"
    account_must_exist = "account_must_exist"
    project_must_exist = "project_must_exist"
    report_must_exist = "report_must_exist"
    issuance_must_exist = "issuance_must_exist"
    authorisation_must_exist = "authorisation_must_exist"
    serial_must_exist = "serial_must_exist"
    document_must_exist = "document_must_exist"
    retirement_must_exist = "retirement_must_exist"
    # interoperability: other registries' issuances
    foreign_registry_must_not_be_this_registry = "foreign_registry_must_not_be_this_registry"
    foreign_export_must_be_readable = "foreign_export_must_be_readable"
    issuance_must_not_duplicate_foreign_issuance = "issuance_must_not_duplicate_foreign_issuance"
    foreign_itmos_must_not_overlap_recorded_ones = "foreign_itmos_must_not_overlap_recorded_ones"
    foreign_itmos_must_reach_a_holder_of_another_party = (
        "foreign_itmos_must_reach_a_holder_of_another_party"
    )
    foreign_itmos_must_not_be_acquired_in_the_future = (
        "foreign_itmos_must_not_be_acquired_in_the_future"
    )
    itmo_registry_id_must_be_set_once = "itmo_registry_id_must_be_set_once"
    itmo_registry_id_must_be_well_formed = "itmo_registry_id_must_be_well_formed"
    # shapes of values
    quantity_must_be_positive = "quantity_must_be_positive"
    period_must_be_ordered = "period_must_be_ordered"
    serial_must_be_well_formed = "serial_must_be_well_formed"
    percentage_must_lie_in_0_100 = "percentage_must_lie_in_0_100"
    registry_must_be_initialised_once = "registry_must_be_initialised_once"
    # projects and reports
    methodology_must_be_in_library = "methodology_must_be_in_library"
    methodology_must_permit_crediting = "methodology_must_permit_crediting"
    quantification_must_fit_methodology = "quantification_must_fit_methodology"
    methodology_must_have_quantification_module = (
        "methodology_must_have_quantification_module"
    )
    methodology_version_must_be_current = "methodology_version_must_be_current"
    quantification_must_match_report_schema = "quantification_must_match_report_schema"
    quantification_hash_must_match_content = "quantification_hash_must_match_content"
    quantification_must_show_net_removal = "quantification_must_show_net_removal"
    quantification_period_must_cover_report_period = (
        "quantification_period_must_cover_report_period"
    )
    quantification_must_back_one_report = "quantification_must_back_one_report"
    verifier_must_be_accredited_for_sector = "verifier_must_be_accredited_for_sector"
    attestation_must_be_given = "attestation_must_be_given"
    attestation_signature_must_verify = "attestation_signature_must_verify"
    attestation_must_match_report = "attestation_must_match_report"
    report_must_carry_signed_attestation = "report_must_carry_signed_attestation"
    issuance_must_not_exceed_vintage_units = "issuance_must_not_exceed_vintage_units"
    public_key_must_be_ed25519 = "public_key_must_be_ed25519"
    project_transition_must_be_allowed = "project_transition_must_be_allowed"
    project_must_be_registered = "project_must_be_registered"
    report_period_must_lie_in_crediting_period = "report_period_must_lie_in_crediting_period"
    reported_quantity_must_not_exceed_quantification = (
        "reported_quantity_must_not_exceed_quantification"
    )
    report_must_await_verification = "report_must_await_verification"
    verified_quantity_must_not_exceed_reported = "verified_quantity_must_not_exceed_reported"
    report_must_be_verified = "report_must_be_verified"
    issuance_must_not_exceed_verified_quantity = "issuance_must_not_exceed_verified_quantity"
    vintage_must_lie_in_monitoring_period = "vintage_must_lie_in_monitoring_period"
    deductions_must_not_exceed_issuance = "deductions_must_not_exceed_issuance"
    # moving units
    accounts_must_be_different = "accounts_must_be_different"
    account_kind_must_permit_operation = "account_kind_must_permit_operation"
    serial_range_must_lie_in_one_held_block = "serial_range_must_lie_in_one_held_block"
    quantity_must_not_exceed_balance = "quantity_must_not_exceed_balance"
    retired_or_cancelled_units_must_not_move = "retired_or_cancelled_units_must_not_move"
    units_must_be_authorised_for_purpose = "units_must_be_authorised_for_purpose"
    claim_period_must_be_ordered = "claim_period_must_be_ordered"
    issuance_must_not_be_authorised_twice = "issuance_must_not_be_authorised_twice"
    quantity_must_span_at_most_10000_blocks = "quantity_must_span_at_most_10000_blocks"
    quantification_must_be_json_object = "quantification_must_be_json_object"
    ca_status_must_advance = "ca_status_must_advance"
    date_must_be_iso_8601 = "date_must_be_iso_8601"
    document_must_fit_size_limit = "document_must_fit_size_limit"
    text_must_not_be_empty = "text_must_not_be_empty"
    # pages
    page_limit_must_lie_in_1_500 = "page_limit_must_lie_in_1_500"


#: HTTP status of each code (``api`` uses it; the domain itself knows nothing of HTTP).
HTTP_STATUS: dict[Rejection, int] = {
    Rejection.foreign_registry_must_not_be_this_registry: 422,
    Rejection.foreign_export_must_be_readable: 422,
    Rejection.issuance_must_not_duplicate_foreign_issuance: 409,
    Rejection.foreign_itmos_must_not_overlap_recorded_ones: 409,
    Rejection.foreign_itmos_must_reach_a_holder_of_another_party: 422,
    Rejection.foreign_itmos_must_not_be_acquired_in_the_future: 422,
    Rejection.itmo_registry_id_must_be_set_once: 409,
    Rejection.itmo_registry_id_must_be_well_formed: 422,
    Rejection.token_must_be_valid: 401,
    Rejection.token_must_exist: 404,
    Rejection.token_must_belong_to_actor: 403,
    Rejection.role_must_permit_operation: 403,
    Rejection.account_must_belong_to_actor: 403,
    Rejection.verifier_must_not_be_proponent: 403,
    Rejection.authority_must_be_of_host_country: 403,
    Rejection.verifier_must_be_accredited_for_sector: 403,
    Rejection.idempotency_key_must_be_given: 400,
    Rejection.idempotency_key_must_match_payload: 409,
    Rejection.party_must_exist: 404,
    Rejection.account_must_exist: 404,
    Rejection.project_must_exist: 404,
    Rejection.report_must_exist: 404,
    Rejection.issuance_must_exist: 404,
    Rejection.authorisation_must_exist: 404,
    Rejection.serial_must_exist: 404,
    Rejection.document_must_exist: 404,
    Rejection.retirement_must_exist: 404,
}


def http_status(code: Rejection) -> int:
    """Return the HTTP status for ``code``.

    Listed ones, else 409 (a conflict with the ledger's state) for state rules and 422 for malformed
    values.
    """
    if code in HTTP_STATUS:
        return HTTP_STATUS[code]
    if code in {
        Rejection.quantity_must_be_positive,
        Rejection.period_must_be_ordered,
        Rejection.serial_must_be_well_formed,
        Rejection.percentage_must_lie_in_0_100,
        Rejection.claim_period_must_be_ordered,
        Rejection.page_limit_must_lie_in_1_500,
        Rejection.quantification_must_be_json_object,
        Rejection.date_must_be_iso_8601,
        Rejection.text_must_not_be_empty,
        Rejection.token_lifetime_must_lie_in_1_3650_days,
        Rejection.token_label_must_fit_100_characters,
        Rejection.admin_role_must_stand_alone,
        Rejection.role_must_be_known,
        Rejection.methodology_must_be_in_library,
        Rejection.methodology_must_permit_crediting,
        Rejection.quantification_must_fit_methodology,
        Rejection.methodology_version_must_be_current,
        Rejection.quantification_must_match_report_schema,
        Rejection.quantification_hash_must_match_content,
        Rejection.attestation_must_be_given,
        Rejection.attestation_signature_must_verify,
        Rejection.public_key_must_be_ed25519,
    }:
        return 422
    return 409


class RegistryRejection(HesuanError):
    """The registry refused a request because it breaks the rule named by ``code``."""

    def __init__(self, code: Rejection, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code.value}: {message}")

    def __reduce__(self):  # picklable (threads/processes in tests)
        return (self.__class__, (self.code, self.message))

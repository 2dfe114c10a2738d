"""Words the pages show from data, listed so that Babel extracts them for translation.

Statuses, kinds, roles, modes, form fields; pages translate them with ``_(value)``.
"""

from hesuan.web.i18n import lazy

TERMS = (
    # block and project and report statuses
    lazy("held"), lazy("retired"), lazy("cancelled"), lazy("listed"), lazy("validated"),
    lazy("registered"), lazy("suspended"), lazy("withdrawn"), lazy("submitted"),
    lazy("verified"), lazy("rejected"),
    # kinds of account
    lazy("holding"), lazy("issuance"), lazy("retirement"), lazy("cancellation"),
    lazy("buffer"), lazy("levy"),
    # roles
    lazy("admin"), lazy("host_authority"), lazy("proponent"), lazy("verifier"),
    lazy("holder"),
    # retirement purposes
    lazy("ndc"), lazy("corsia"), lazy("oimp"),
    # job states
    lazy("queued"), lazy("checking"), lazy("checked"), lazy("running"), lazy("done"),
    lazy("failed"),
    # transport modes
    lazy("road"), lazy("rail"), lazy("sea"), lazy("air"), lazy("inland_waterway"),
    # form fields named in refusals
    lazy("from_account"), lazy("to_account"), lazy("quantity"), lazy("serial_start"),
    lazy("serial_end"), lazy("beneficiary"), lazy("purpose"), lazy("claim_start"),
    lazy("claim_end"), lazy("note"), lazy("reason"), lazy("project_id"), lazy("vintage"),
)

"""``hesuan registry`` (and ``hesuan serve``): the carbon-credit registry from the command line.

Every command works against a local database (``--db``, default ``hesuan-registry.db``; a
PostgreSQL URL works too) or a running server (``--server http://host:port``). Locally a
request is validated with the API's own request models and request policy and runs the
same use case or query of the service layer that its route runs, so both modes apply the
same validation, authorisation and idempotency rules — without the start-up cost of the web
application. Changes and the account views need ``--token`` (or ``HESUAN_TOKEN``); changes take
``--key`` as the idempotency key (a fresh one is made and printed when omitted: re-run with
the same ``--key`` to retry safely).

Only ``hesuan registry init`` creates a database: every other command (and ``hesuan serve``
without ``--init``) refuses a ``--db`` that holds no registry, so a mistyped path never
starts a new, empty registry. A request the API refuses as malformed is shown as one
sentence per field, named by its command-line option.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from hesuan.cli._console import JsonOption, console, err_console, print_json
from hesuan.errors import HesuanError

if TYPE_CHECKING:
    import httpx

app = typer.Typer(
    help="Carbon-credit registry: projects, monitoring reports, issuance with deductions, "
         "transfers, retirements, Article 6 records, a verifiable audit log.\n\n"
         "Example:  hesuan registry init --db reg.db",
    no_args_is_help=True,
)

DEFAULT_DB = "hesuan-registry.db"

DbOpt = typer.Option(DEFAULT_DB, "--db", envvar="HESUAN_REGISTRY_DB",
                     help="Database: a SQLite file path or URL, or postgresql://… (made only "
                          "by `hesuan registry init`).")
ServerOpt = typer.Option(None, "--server", envvar="HESUAN_SERVER",
                         help="Registry server URL (instead of --db), e.g. http://127.0.0.1:8000")
TokenOpt = typer.Option(None, "--token", envvar="HESUAN_TOKEN", help="Your bearer token.")
KeyOpt = typer.Option(None, "--key", help="Idempotency key (default: a new random key).")

SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite 3 database file (https://www.sqlite.org/fileformat.html,
section 1.3.1)."""

_OPTION_OF: dict[str, str] = {
    "host_country": "--country", "methodology_id": "--methodology",
    "host_region": "--region", "reported_quantity": "--quantity",
    "verified_quantity": "--quantity", "from_account": "--from", "to_account": "--to",
    "uses": "--use", "authorisation_id": "AUTHORISATION_ID", "report_id": "REPORT_ID",
    "issuance_id": "ISSUANCE_ID", "project_id": "--project", "quantification": "--summary",
    "approve": "--reject", "content_base64": "FILE", "first_transfer": "--first-transfer",
}
"""API field → the command-line option that sets it (others: ``--`` + the field name)."""

_FORM_OF: dict[str, str] = {
    "buffer_pct": "a percentage from 0 to 100 such as 20 or 12.5",
    "share_of_proceeds_pct": "a percentage from 0 to 100 such as 5",
    "overall_mitigation_pct": "a percentage from 0 to 100 such as 2",
    "country": "an ISO 3166-1 alpha-2 country code in capitals, such as KE or CN",
    "host_country": "an ISO 3166-1 alpha-2 country code in capitals, such as KE or CN",
}
"""What a field's text must look like, for the fields the API checks by a pattern."""


class RegistryCliError(HesuanError):
    """The registry refused the request (the message names the rule)."""


def _sqlite_path(db: str) -> Path | None:
    """Return the file of a SQLite ``--db`` (a path or ``sqlite:///`` URL); ``None`` otherwise."""
    if "://" not in db:
        return Path(db)
    if db.startswith("sqlite:///"):
        rest = db[len("sqlite:///"):].split("?", 1)[0]
        return None if rest in ("", ":memory:") else Path(rest)
    return None


def require_registry(db: str) -> None:
    """Refuse a ``--db`` that holds no hesuan registry (never create one).

    Raises
    ------
    RegistryCliError
        Naming the path and saying how to create a registry.
    """
    hint = f"create one with `hesuan registry init --db {db}`, or check the path"
    path = _sqlite_path(db)
    if path is not None:
        if not path.exists():
            raise RegistryCliError(f"--db {db}: no registry database there ({hint})")
        if path.is_dir():
            raise RegistryCliError(f"--db {db}: is a folder, not a registry database file")
        try:
            with path.open("rb") as handle:
                header = handle.read(16)
        except OSError as exc:
            raise RegistryCliError(f"--db {db}: cannot be read ({exc.strerror})") from None
        if header != SQLITE_HEADER:
            raise RegistryCliError(f"--db {db}: is not an SQLite database"
                                   + (" (the file is empty)" if not header else ""))
        import sqlite3

        try:
            con = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
            try:
                found = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                    "name = 'registry_meta'").fetchone()
            finally:
                con.close()
        except sqlite3.Error as exc:
            raise RegistryCliError(f"--db {db}: cannot be opened as SQLite ({exc})") from None
        if not found:
            raise RegistryCliError(f"--db {db}: an SQLite database, but not a hesuan "
                                   f"registry ({hint})")
        return
    if "://" in db and not db.startswith(("postgresql", "postgres", "sqlite")):
        raise RegistryCliError(f"--db {db}: unsupported database URL (expected a SQLite file "
                               "path, sqlite:///FILE or postgresql://…)")
    if db.startswith("sqlite"):
        raise RegistryCliError(f"--db {db}: an in-memory database holds no registry")
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from hesuan.registry.db.engine import make_engine

    engine = make_engine(db, pool_size=1)
    try:
        found_pg = inspect(engine).has_table("registry_meta")
    except SQLAlchemyError as exc:
        raise RegistryCliError(f"--db {db}: cannot connect "
                               f"({str(getattr(exc, 'orig', None) or exc).splitlines()[0]})"
                               ) from None
    finally:
        engine.dispose()
    if not found_pg:
        raise RegistryCliError(f"--db {db}: the database holds no hesuan registry ({hint})")


def _open_registry(db: str, *, create: bool = False) -> Any:
    """``Registry.open(db)`` with its failures as one message.

    Only ``create`` may make a new database (``hesuan registry init``, ``hesuan serve --init``).
    """
    if not create:
        require_registry(db)
    else:
        path = _sqlite_path(db)
        if path is not None:
            parent = path.resolve().parent
            if parent.exists() and not parent.is_dir():
                raise RegistryCliError(f"--db {db}: {parent} is a file, not a folder")
            if not parent.is_dir():
                raise RegistryCliError(f"--db {db}: the folder {parent} does not exist")
            if path.is_dir():
                raise RegistryCliError(f"--db {db}: is a folder, not a database file")
            if not path.exists():
                _probe_writable(parent, db)
            if path.exists() and path.stat().st_size:
                with path.open("rb") as handle:
                    if handle.read(16) != SQLITE_HEADER:
                        raise RegistryCliError(f"--db {db}: exists and is not an SQLite "
                                               "database")
    from sqlalchemy.exc import SQLAlchemyError

    from hesuan.registry.engine import Registry

    try:
        return Registry.open(db)
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise RegistryCliError(f"--db {db}: cannot be opened ({first})") from None


def _probe_writable(folder: Path, db: str) -> None:
    import tempfile

    from hesuan.io.outputs import describe_os_error

    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".hesuan-probe-"):
            pass
    except OSError as exc:
        raise RegistryCliError(f"--db {db}: cannot create a database in {folder} "
                               f"({describe_os_error(exc)})") from None


def field_errors(body: Any) -> list[str]:
    """Return one sentence per field of a 422 reply, each naming the command-line option.

    The fields are FastAPI's ``detail`` list, or a list under ``errors``/``problems``.
    """
    items = None
    if isinstance(body, dict):
        for key in ("detail", "errors", "problems"):
            if isinstance(body.get(key), list):
                items = body[key]
                break
    if not items:
        return []
    sentences = []
    for item in items:
        if not isinstance(item, dict):
            sentences.append(str(item))
            continue
        loc = [str(p) for p in item.get("loc", []) if p not in ("body", "query", "path")]
        field = loc[-1] if loc and not loc[-1].isdigit() else (loc[-2] if len(loc) > 1
                                                                 else "")
        option = _OPTION_OF.get(field, f"--{field.replace('_', '-')}") if field else "request"
        msg = str(item.get("msg", item.get("message", "is not valid")))
        kind = str(item.get("type", ""))
        if "pattern" in kind or "pattern" in msg:
            msg = f"must be {_FORM_OF.get(field, 'in the documented form (see --help)')}"
        elif kind == "extra_forbidden":
            msg = "is not a field of this request"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        elif msg:
            msg = msg[0].lower() + msg[1:]
        got = item.get("input")
        shown = "" if got is None or isinstance(got, dict | list) or repr(got) in msg \
            else f" (got {got!r})"
        sentences.append(f"{option}: {msg}{shown}.")
    return sentences


def _refusal(body: Any, status: int) -> RegistryCliError:
    """Return the CLI's message for a refused request.

    One sentence per field of a 422, else the named rule (``code: message (HTTP status)``).
    """
    sentences = field_errors(body)
    if sentences:
        return RegistryCliError(
            "the request is not valid:\n  " + "\n  ".join(sentences)
            if len(sentences) > 1 else f"the request is not valid: {sentences[0]}")
    if isinstance(body, dict) and "code" in body:
        return RegistryCliError(f"{body['code']}: {body.get('message', '')} (HTTP {status})")
    return RegistryCliError(f"HTTP {status}: {json.dumps(body)[:2000]}")


WRITE_ROUTES: dict[str, tuple[str, str]] = {
    "/parties": ("CreateParty", "PartyCreate"),
    "/parties/{party_id}/roles": ("GrantRole", "RoleGrant"),
    "/parties/me/tokens": ("IssueToken", "TokenCreate"),
    "/accounts": ("OpenAccount", "AccountCreate"),
    "/projects": ("CreateProject", "ProjectCreate"),
    "/projects/{project_id}/transitions": ("TransitionProject", "ProjectTransition"),
    "/projects/{project_id}/documents": ("AddDocument", "DocumentCreate"),
    "/parties/{party_id}/accreditations": ("AccreditVerifier", "VerifierAccreditation"),
    "/reports": ("SubmitReport", "ReportCreate"),
    "/reports/{report_id}/verification": ("VerifyReport", "ReportVerification"),
    "/issuances": ("Issue", "IssuanceCreate"),
    "/transfers": ("Transfer", "TransferCreate"),
    "/retirements": ("Retire", "RetirementCreate"),
    "/cancellations": ("Cancel", "CancellationCreate"),
    "/buffer-reversals": ("BufferReversal", "BufferReversalCreate"),
    "/authorisations": ("Authorise", "AuthorisationCreate"),
    "/corresponding-adjustments": ("CorrespondingAdjustment",
                                   "CorrespondingAdjustmentCreate"),
}
"""The API's write routes the CLI uses: path → (the request type in
:mod:`hesuan.registry.service.requests` its route builds, the request model in
:mod:`hesuan.registry.api.schemas` it validates the body with); named, not imported, so
that the CLI starts without the registry. A test checks this against the application's
routes."""

DELETE_ROUTES: dict[str, str] = {
    "/parties/me/tokens/{fingerprint}": "RevokeToken",
    "/parties/{party_id}/roles/{role}": "RevokeRole",
}
"""The API's DELETE routes the CLI uses: path → the request type its route builds from
its path parameters (checked against the application's routes by a test)."""

_TEXT_IDS: dict[str, str] = {"fingerprint": "Fingerprint", "role": "RoleName"}
"""Path parameters that are text, not ids: name → the type in
:mod:`hesuan.registry.api.schemas` their route validates them with."""

READ_ROUTES: dict[str, str] = {
    "/projects": "projects", "/projects/{project_id}": "project",
    "/reports/{report_id}": "report", "/issuances": "issuances",
    "/retirements": "retirements", "/retirements/{retirement_id}": "retirement",
    "/serials/{serial}": "serial_history", "/serials/{serial}/trace": "trace",
    "/audit/events": "events",
    "/accounts": "accounts", "/accounts/{account_id}": "account",
    "/parties/me/tokens": "tokens",
}
"""The read routes the CLI uses: path → the query of :mod:`hesuan.registry.service.queries`
the route runs (``/audit/verify`` runs ``Registry.verify(public=True)``)."""

ACTOR_READS = frozenset({"/accounts", "/accounts/{account_id}"})
"""The read routes that need a token: their query takes the authenticated actor (an account
is shown only to its owner or the administrator)."""

OWN_PARTY_READS = frozenset({"/parties/me/tokens"})
"""The read routes about the token's own party: their query takes its ``party_id``."""


class _Client:
    """A running registry server (``--server``), over HTTP."""

    def __init__(self, server: str, token: str | None) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http: Any = httpx.Client(base_url=server.rstrip("/"), headers=headers,
                                      timeout=60)

    def close(self) -> None:
        self.http.close()

    def _check(self, r: httpx.Response) -> Any:
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = {"message": r.text}
            raise _refusal(body, r.status_code)
        return r.json()

    def _send(self, method: str, path: str, **kw: Any) -> Any:
        import httpx

        try:
            return self._check(self.http.request(method, path, **kw))
        except httpx.TransportError as exc:
            raise RegistryCliError(f"cannot reach the registry server ({exc})") from None

    def post(self, path: str, body: dict[str, Any], key: str | None, **ids: Any) -> Any:
        return self._send("POST", path.format(**ids), json=body,
                          headers={"Idempotency-Key": _key(key)})

    def get(self, path: str, ids: dict[str, Any] | None = None, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return self._send("GET", path.format(**(ids or {})), params=clean)

    def delete(self, path: str, key: str | None, **ids: Any) -> Any:
        return self._send("DELETE", path.format(**ids), headers={"Idempotency-Key": _key(key)})


def _key(key: str | None) -> str:
    key = key or uuid.uuid4().hex
    err_console.print(f"idempotency key: {key}", highlight=False)
    return key


class _LocalClient:
    """A local database (``--db``) the CLI calls in-process.

    The request is validated with the API's own request models and request policy, then the same
    :class:`Registry` use case or query its route calls runs in this process — without building
    the web application (start-up: see docs/benchmarks.md). Refusals read as they do from a
    server.
    """

    def __init__(self, db: str, token: str | None) -> None:
        self._registry = _open_registry(db)
        self._token = token

    def close(self) -> None:
        """Close the database."""
        self._registry.close()

    def post(self, path: str, body: dict[str, Any], key: str | None, **ids: Any) -> Any:
        from hesuan.registry.api import schemas
        from hesuan.registry.api.policy import check_value
        from hesuan.registry.service import requests

        type_name, model_name = WRITE_ROUTES[path]
        key = _key(key)
        with _local_refusals():
            check_value(body)  # the request policy's text rules (NUL, lone surrogates)
            actor = self._registry.authenticate(self._token)
            ids = _path_ids(ids)
            validated = getattr(schemas, model_name).model_validate(body)
            kind: type[requests.WriteRequest] = getattr(requests, type_name)
            if kind is requests.AddDocument:  # the route decodes the upload
                request: requests.WriteRequest = requests.AddDocument(
                    name=validated.name, kind=validated.kind,
                    content=base64.b64decode(validated.content_base64, validate=True), **ids)
            else:
                request = requests.from_body(kind, validated, **ids)
            return self._registry.write(actor, key, request)

    def delete(self, path: str, key: str | None, **ids: Any) -> Any:
        from hesuan.registry.service import requests

        key = _key(key)
        with _local_refusals():
            actor = self._registry.authenticate(self._token)
            kind: type[requests.WriteRequest] = getattr(requests, DELETE_ROUTES[path])
            return self._registry.write(actor, key, kind(**_path_ids(ids)))

    def get(self, path: str, ids: dict[str, Any] | None = None, **params: Any) -> Any:
        ids = ids or {}
        clean = {k: v for k, v in params.items() if v is not None}
        with _local_refusals():
            if path == "/audit/verify":
                return self._registry.verify(public=True)
            if path in ACTOR_READS:  # the route's dependency: the token's party
                clean["actor"] = self._registry.authenticate(self._token)
            if path in OWN_PARTY_READS:  # as the route: the authenticated party's own rows
                clean["party_id"] = self._registry.authenticate(self._token).party_id
            return self._registry.query(READ_ROUTES[path], **_path_ids(ids), **clean)


class _InProcessClient(_Client):
    """The API application in this process (to compare the local mode with the API)."""

    def __init__(self, registry: Any, token: str | None) -> None:
        import httpx

        from hesuan.registry.api import create_app
        from hesuan.registry.api.inprocess import InProcessTransport

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url="http://registry.local", headers=headers,
                                 transport=InProcessTransport(create_app(registry)))


def _path_ids(ids: dict[str, Any]) -> dict[str, Any]:
    """Convert path ids as the API's path parameters take them.

    An id becomes an ``Id`` of the request models, from text as in a URL; a serial stays text
    (its query checks its form), a fingerprint or a role is checked as its route checks it.
    """
    if not ids:
        return {}
    from pydantic import TypeAdapter, ValidationError

    from hesuan.registry.api import schemas

    out: dict[str, Any] = {}
    for name, value in ids.items():
        if name == "serial":
            out[name] = value
            continue
        adapter: TypeAdapter[Any] = TypeAdapter(getattr(schemas, _TEXT_IDS.get(name, "Id")))
        try:
            out[name] = adapter.validate_strings(str(value))
        except ValidationError as exc:
            raise _PathError(name, exc) from None
    return out


class _PathError(Exception):
    """A path id the API would refuse (422), with the validation error."""

    def __init__(self, name: str, error: Any) -> None:
        super().__init__(name)
        self.name, self.error = name, error


@contextlib.contextmanager
def _local_refusals() -> Iterator[None]:
    """Apply the API application's error mapping (``api/app.py``) to a call made in-process."""
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError

    from hesuan.registry.api.policy import PolicyViolation
    from hesuan.registry.domain.codes import RegistryRejection, http_status

    def detail(errors: list[Any], where: list[str]) -> dict[str, Any]:
        return {"detail": [{"loc": [*where, *e.get("loc", ())], "msg": e.get("msg", ""),
                            "type": e.get("type", "")} for e in errors[:20]]}

    try:
        yield
    except RegistryRejection as exc:
        raise _refusal({"code": exc.code.value, "message": exc.message},
                       http_status(exc.code)) from None
    except PolicyViolation as exc:
        raise _refusal({"code": exc.code, "message": exc.message}, exc.status) from None
    except _PathError as exc:
        raise _refusal(detail(exc.error.errors(), ["path", exc.name]), 422) from None
    except ValidationError as exc:
        raise _refusal(detail(exc.errors(), ["body"]), 422) from None
    except DBAPIError:
        raise _refusal({"code": "database_unavailable",
                        "message": "the registry's database could not complete the request"},
                       503) from None


def _run(db: str, server: str | None, token: str | None, as_json: bool, fn: Any) -> None:
    client = _connect(db, server, token)
    try:
        result = fn(client)
    finally:
        client.close()
    _print(result, as_json)


def _connect(db: str, server: str | None, token: str | None) -> _Client | _LocalClient:
    return _Client(server, token) if server else _LocalClient(db, token)


def _print(result: Any, as_json: bool) -> None:
    """Print the API's answer: strict JSON with ``--json`` (or when piped), else pretty JSON."""
    if as_json or not console.is_terminal:
        print_json(result)
    else:
        console.print_json(json.dumps(result, default=str))


def _drop_none(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


@app.command()
def init(
    db: str = DbOpt,
    admin_name: str = typer.Option("Registry administrator", help="Name of the administrator."),
    registry_code: str = typer.Option("HSN", help="2–8 capitals/digits starting serials."),
    share_of_proceeds_pct: str = typer.Option("0", help="Share of proceeds [%] to the levy "
                                                        "account, e.g. 5 (Article 6.4)."),
    overall_mitigation_pct: str = typer.Option("0", help="Overall mitigation cancellation "
                                                         "[%], e.g. 2."),
    rounding: str = typer.Option("up", help="Rounding of each deduction: up | down | half_up."),
    as_json: bool = JsonOption,
) -> None:
    """Create a registry in a new or empty database and print the administrator's token (once).

    The only command that makes a database: the others refuse a --db that holds no registry.

    Example: hesuan registry init --db reg.db --share-of-proceeds-pct 5 --overall-mitigation-pct 2
    """
    reg = _open_registry(db, create=True)
    try:
        out = reg.bootstrap(admin_name=admin_name, registry_code=registry_code,
                            share_of_proceeds_pct=share_of_proceeds_pct,
                            overall_mitigation_pct=overall_mitigation_pct, rounding=rounding)
    finally:
        reg.close()
    _print(out, as_json)
    err_console.print("Keep the admin token: it is stored only as a hash.")


@app.command()
def party(
    name: str = typer.Argument(..., help="Party name."),
    role: str = typer.Option(..., help="host_authority | proponent | verifier | holder | admin"),
    country: str | None = typer.Option(None, help="ISO 3166-1 alpha-2 (needed for host "
                                                  "authorities)."),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Register a party (administrator); prints its token once.

    Example: hesuan registry party "Mau Forest Trust" --role proponent --country KE --token $ADMIN
    """
    _run(db, server, token, as_json, lambda c: c.post(
        "/parties", _drop_none(name=name, role=role, country=country), key))


token_app = typer.Typer(
    help="Your party's API tokens: list them (by fingerprint, never the secret), issue a new "
         "one (its secret is printed once: only its SHA-256 is kept) and revoke one.\n\n"
         "Example:  hesuan registry token issue --label laptop --ttl-days 90 --token $HOLDER",
    no_args_is_help=True,
)
app.add_typer(token_app, name="token")


@token_app.command("list")
def token_list(db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
               as_json: bool = JsonOption) -> None:
    """List your party's tokens: fingerprint (SHA-256), label, created, expiry, revoked.

    Example: hesuan registry token list --token $HOLDER
    """
    _run(db, server, token, as_json, lambda c: c.get("/parties/me/tokens"))


@token_app.command("issue")
def token_issue(
    label: str | None = typer.Option(None, help="Your name for the token, e.g. laptop (≤ 100 "
                                                "characters)."),
    ttl_days: int | None = typer.Option(None, help="Lifetime [days], 1–3650 (default 3650)."),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Issue your party a new token and print its secret once (copy it now).

    The registry keeps only the token's SHA-256 (its fingerprint): it cannot show the
    secret again. A retry with the same --key answers without the secret.

    Example: hesuan registry token issue --label ci --ttl-days 30 --token $HOLDER
    """
    _run(db, server, token, as_json, lambda c: c.post(
        "/parties/me/tokens", _drop_none(label=label, ttl_days=ttl_days), key))
    err_console.print("Copy the token now: the registry keeps only its SHA-256.")


@token_app.command("revoke")
def token_revoke(
    fingerprint: str = typer.Argument(..., help="The token's fingerprint: its SHA-256, 64 "
                                                "hex digits (see `token list`)."),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Revoke one token (yours; the administrator: any party's). It is refused from then on.

    The token given with --token may itself be revoked: this answer still arrives.

    Example: hesuan registry token revoke 3f2a…(64 hex digits) --token $HOLDER
    """
    _run(db, server, token, as_json, lambda c: c.delete(
        "/parties/me/tokens/{fingerprint}", key, fingerprint=fingerprint.strip().lower()))


role_app = typer.Typer(
    help="A party's roles (administrator): grant another role, revoke one it no longer "
         "needs. Roles: host_authority, proponent, verifier, holder (admin stands alone).\n\n"
         "Example:  hesuan registry role grant 4 proponent --token $ADMIN",
    no_args_is_help=True,
)
app.add_typer(role_app, name="role")

PartyIdArg = typer.Argument(..., help="The party's id.")


@role_app.command("grant")
def role_grant(
    party_id: int = PartyIdArg,
    role: str = typer.Argument(..., help="host_authority | proponent | verifier | holder"),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Give a party another role (administrator; journaled as role_granted).

    Example: hesuan registry role grant 4 proponent --token $ADMIN
    """
    _run(db, server, token, as_json, lambda c: c.post(
        "/parties/{party_id}/roles", {"role": role}, key, party_id=party_id))


@role_app.command("revoke")
def role_revoke(
    party_id: int = PartyIdArg,
    role: str = typer.Argument(..., help="The role to take; the party keeps its others."),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Take a role from a party that holds another (administrator; role_revoked).

    Example: hesuan registry role revoke 4 proponent --token $ADMIN
    """
    _run(db, server, token, as_json, lambda c: c.delete(
        "/parties/{party_id}/roles/{role}", key, party_id=party_id, role=role))


@app.command()
def account(
    name: str = typer.Option("", help="Account name."),
    party_id: int | None = typer.Option(None, help="Owner (administrator only; default you)."),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Open a holding account.

    Example: hesuan registry account --name "Buyer holding" --token $HOLDER
    """
    _run(db, server, token, as_json, lambda c: c.post(
        "/accounts", _drop_none(name=name, party_id=party_id), key))


@app.command()
def project(
    name: str = typer.Argument(..., help="Project name."),
    methodology: str = typer.Option(
        ..., help="Methodology id from the standards library's catalogue (`hesuan factors "
                  "methodologies` lists them), e.g. VM0047."),
    methodology_version: str = typer.Option(..., help="Methodology version, e.g. 1.1."),
    country: str = typer.Option(..., help="Host country, ISO 3166-1 alpha-2."),
    region: str = typer.Option(..., help="Host region."),
    sector: str = typer.Option(..., help="Sector, e.g. AFOLU."),
    crediting_start: str = typer.Option(..., help="YYYY-MM-DD"),
    crediting_end: str = typer.Option(..., help="YYYY-MM-DD"),
    buffer_pct: str = typer.Option("0", help="Non-permanence buffer share [%] from the "
                                             "project's risk rating."),
    external_project_id: str | None = typer.Option(
        None, "--external-project-id", help="The id other registries know the project by "
        "(e.g. VCS-1234); issuing a vintage another registry issued under it is refused."),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """List a project (proponent).

    Example: hesuan registry project "Mau reforestation" --methodology VM0047
    --methodology-version 1.1 --country KE --region Nakuru --sector AFOLU
    --crediting-start 2020-01-01 --crediting-end 2039-12-31 --buffer-pct 20 --token $PROPONENT
    """
    _run(db, server, token, as_json, lambda c: c.post("/projects", {
        "name": name, "methodology_id": methodology, "methodology_version": methodology_version,
        "host_country": country, "host_region": region, "sector": sector,
        "crediting_start": crediting_start, "crediting_end": crediting_end,
        "buffer_pct": buffer_pct, **_drop_none(external_project_id=external_project_id)}, key))


@app.command("project-status")
def project_status(
    project_id: int = typer.Argument(...),
    status: str = typer.Argument(..., help="validated | registered | suspended | withdrawn"),
    reason: str = typer.Option(""),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Move a project through its lifecycle.

    A verifier validates, an administrator registers or suspends, the proponent or an administrator
    withdraws.

    Example: hesuan registry project-status 1 validated --token $VERIFIER
    """
    _run(db, server, token, as_json, lambda c: c.post(
        "/projects/{project_id}/transitions", {"status": status, "reason": reason}, key,
        project_id=project_id))


@app.command()
def document(
    project_id: int = typer.Argument(...),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    kind: str = typer.Option("document", help="e.g. pdd, validation_report."),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Attach a document to a project (stored by SHA-256).

    Example: hesuan registry document 1 pdd.pdf --kind pdd --token $PROPONENT
    """
    content = base64.b64encode(file.read_bytes()).decode()
    _run(db, server, token, as_json, lambda c: c.post(
        "/projects/{project_id}/documents",
        {"name": file.name, "kind": kind, "content_base64": content}, key,
        project_id=project_id))


@app.command()
def report(
    project_id: int = typer.Argument(...),
    summary: Path = typer.Option(..., "--summary", "--quantification", exists=True,
                                 dir_okay=False,
                                 help="The quantification report (hesuan quantify) of the "
                                 "project's methodology and version."),
    period_start: str = typer.Option(..., help="YYYY-MM-DD"),
    period_end: str = typer.Option(..., help="YYYY-MM-DD"),
    quantity: int = typer.Option(..., help="Reported quantity [t CO2e], whole units."),
    factor_dataset: str | None = typer.Option(None, help="Ignored (a quantification report "
                                              "names its datasets)."),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Submit a monitoring report carrying a quantification (proponent).

    Example: hesuan registry report 1 --quantification q/quantification_2025-12-31.json
    --period-start 2024-01-01 --period-end 2024-12-31 --quantity 1200 --token $PROPONENT
    """
    _run(db, server, token, as_json, lambda c: c.post("/reports", _drop_none(
        project_id=project_id, period_start=period_start, period_end=period_end,
        reported_quantity=quantity, quantification=_read_summary(summary),
        factor_dataset=factor_dataset), key))


def _read_summary(path: Path) -> str:
    """Return the text of a quantification file, refused unless it is UTF-8 (strict) JSON."""
    from hesuan.io.jsonout import loads

    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryCliError(f"--summary {path}: not UTF-8 text (byte {exc.start}); a hesuan "
                               "summary.json is UTF-8 JSON") from None
    loads(text, file=f"--summary {path}")
    return text


@app.command("verify-report")
def verify_report(
    report_id: int = typer.Argument(...),
    quantity: int = typer.Option(..., help="Verified quantity [t CO2e] (≤ reported)."),
    reject: bool = typer.Option(False, help="Reject the report instead."),
    comment: str = typer.Option(""),
    attestation: Path | None = typer.Option(None, exists=True,
                                            help="Your signed attestation (hesuan attest), "
                                            "required for a quantification report."),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Verify a monitoring report (verifier; never the proponent).

    Example: hesuan registry verify-report 1 --quantity 1150 --attestation att.json
    --token $VERIFIER
    """
    _run(db, server, token, as_json, lambda c: c.post(
        "/reports/{report_id}/verification", _drop_none(
            verified_quantity=quantity, approve=not reject, comment=comment,
            attestation=attestation.read_text(encoding="utf-8") if attestation else None),
        key, report_id=report_id))


@app.command()
def accredit(
    party_id: int = typer.Argument(..., help="The verifier's party id."),
    sector: str = typer.Option(..., help="Sector of the accreditation, e.g. AFOLU."),
    public_key: str = typer.Option(..., help="The verifier's Ed25519 public key (64 hex "
                                   "digits, printed by `hesuan attest keygen`)."),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Accredit a verifier for a sector with its signing key (administrator).

    Example: hesuan registry accredit 3 --sector AFOLU --public-key 3b6a27bc… --token $ADMIN
    """
    _run(db, server, token, as_json, lambda c: c.post(
        "/parties/{party_id}/accreditations", {"sector": sector, "public_key": public_key},
        key, party_id=party_id))


@app.command()
def issue(
    report_id: int = typer.Argument(...),
    quantity: int = typer.Option(..., help="Units to issue (≤ verified)."),
    vintage: int | None = typer.Option(None, help="Vintage year (default: period end)."),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Issue units for a verified report, with buffer and levy deductions (administrator).

    Example: hesuan registry issue 1 --quantity 1000 --token $ADMIN
    """
    _run(db, server, token, as_json, lambda c: c.post(
        "/issuances", _drop_none(report_id=report_id, quantity=quantity, vintage=vintage), key))


def _selection(quantity: int, serial_start: int | None, serial_end: int | None,
               project_id: int | None, vintage: int | None) -> dict[str, Any]:
    return _drop_none(quantity=quantity, serial_start=serial_start, serial_end=serial_end,
                      project_id=project_id, vintage=vintage)


SerialStart = typer.Option(None, help="First serial of an explicit range.")
SerialEnd = typer.Option(None, help="Last serial of an explicit range.")
ProjectOpt = typer.Option(None, "--project", help="Only units of this project.")
VintageOpt = typer.Option(None, help="Only units of this vintage.")


@app.command()
def transfer(
    from_account: int = typer.Option(..., "--from"), to_account: int = typer.Option(..., "--to"),
    quantity: int = typer.Option(...), serial_start: int | None = SerialStart,
    serial_end: int | None = SerialEnd, project_id: int | None = ProjectOpt,
    vintage: int | None = VintageOpt,
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Transfer units between holding accounts.

    Example: hesuan registry transfer --from 5 --to 7 --quantity 100 --token $PROPONENT
    """
    body = {"from_account": from_account, "to_account": to_account,
            **_selection(quantity, serial_start, serial_end, project_id, vintage)}
    _run(db, server, token, as_json, lambda c: c.post("/transfers", body, key))


@app.command()
def retire(
    from_account: int = typer.Option(..., "--from"), quantity: int = typer.Option(...),
    beneficiary: str = typer.Option(...),
    purpose: str = typer.Option("voluntary", help="voluntary | ndc | corsia | oimp | other"),
    claim_start: str = typer.Option(..., help="YYYY-MM-DD"),
    claim_end: str = typer.Option(..., help="YYYY-MM-DD"),
    note: str = typer.Option(""), serial_start: int | None = SerialStart,
    serial_end: int | None = SerialEnd, project_id: int | None = ProjectOpt,
    vintage: int | None = VintageOpt,
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Retire units with a public statement.

    Example: hesuan registry retire --from 7 --quantity 30 --beneficiary "ACME Ltd"
    --claim-start 2024-01-01 --claim-end 2024-12-31 --token $HOLDER
    """
    body = {"from_account": from_account, "beneficiary": beneficiary, "purpose": purpose,
            "claim_start": claim_start, "claim_end": claim_end, "note": note,
            **_selection(quantity, serial_start, serial_end, project_id, vintage)}
    _run(db, server, token, as_json, lambda c: c.post("/retirements", body, key))


@app.command()
def cancel(
    from_account: int = typer.Option(..., "--from"), quantity: int = typer.Option(...),
    reason: str = typer.Option(...), serial_start: int | None = SerialStart,
    serial_end: int | None = SerialEnd, project_id: int | None = ProjectOpt,
    vintage: int | None = VintageOpt,
    buffer_reversal: int | None = typer.Option(
        None, help="Instead: cancel QUANTITY buffer units for a loss at this project id."),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Cancel units administratively (or, with --buffer-reversal, after a loss).

    Example: hesuan registry cancel --from 7 --quantity 5 --reason "correct error" --token $ADMIN
    """
    if buffer_reversal is not None:
        _run(db, server, token, as_json, lambda c: c.post("/buffer-reversals", {
            "project_id": buffer_reversal, "quantity": quantity, "reason": reason}, key))
        return
    body = {"from_account": from_account, "reason": reason,
            **_selection(quantity, serial_start, serial_end, project_id, vintage)}
    _run(db, server, token, as_json, lambda c: c.post("/cancellations", body, key))


@app.command()
def authorise(
    issuance_id: int = typer.Argument(...),
    uses: list[str] = typer.Option(..., "--use", help="ndc | corsia | oimp (repeatable)."),
    first_transfer: str = typer.Option(..., help="authorisation | issuance | "
                                                 "use_or_cancellation"),
    reference: str = typer.Option(..., help="Letter of authorisation reference."),
    authorised_on: str = typer.Option(..., help="YYYY-MM-DD"),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Authorise an issuance's units for Article 6 uses (host-country authority).

    Example: hesuan registry authorise 1 --use ndc --use corsia --first-transfer authorisation
    --reference KE-LoA-1 --authorised-on 2025-01-10 --token $AUTHORITY
    """
    _run(db, server, token, as_json, lambda c: c.post("/authorisations", {
        "issuance_id": issuance_id, "uses": uses, "first_transfer": first_transfer,
        "reference": reference, "authorised_on": authorised_on}, key))


@app.command()
def adjust(
    authorisation_id: int = typer.Argument(...),
    status: str = typer.Option(..., help="Pending | Completed"),
    reporting_year: int = typer.Option(...),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    key: str | None = KeyOpt, as_json: bool = JsonOption,
) -> None:
    """Record a corresponding adjustment's status (host-country authority).

    Example: hesuan registry adjust 1 --status Completed --reporting-year 2025 --token $AUTHORITY
    """
    _run(db, server, token, as_json, lambda c: c.post("/corresponding-adjustments", {
        "authorisation_id": authorisation_id, "status": status,
        "reporting_year": reporting_year}, key))


@app.command()
def show(
    what: str = typer.Argument(..., help="projects | project ID | issuances | retirements | "
                                         "retirement ID | serial X | account ID | accounts"),
    ident: str | None = typer.Argument(None),
    limit: int = typer.Option(100, help="Page size (1–500)."),
    offset: int = typer.Option(0),
    db: str = DbOpt, server: str | None = ServerOpt, token: str | None = TokenOpt,
    as_json: bool = JsonOption,
) -> None:
    """Show the public explorer (and your accounts).

    Example: hesuan registry show serial HSN-KE-1-2024-1-730-18
    """
    paths = {"projects": "/projects", "issuances": "/issuances", "retirements": "/retirements",
             "accounts": "/accounts", "project": "/projects/{project_id}",
             "retirement": "/retirements/{retirement_id}", "serial": "/serials/{serial}",
             "account": "/accounts/{account_id}", "report": "/reports/{report_id}"}
    if what not in paths:
        raise RegistryCliError(f"show: unknown '{what}' (expected one of {', '.join(paths)})")
    path = paths[what]
    ids: dict[str, Any] = {}
    if "{" in path:
        if ident is None:
            raise RegistryCliError(f"show {what} needs an id")
        ids = {path[path.index("{") + 1:path.index("}")]: ident}
        params: dict[str, Any] = {"limit": limit, "offset": offset} \
            if what in ("serial", "account") else {}
    else:
        params = {"limit": limit, "offset": offset}
    _run(db, server, token, as_json, lambda c: c.get(path, ids, **params))


@app.command()
def trace(
    serial: str = typer.Argument(..., help="A serial number or block identifier."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole trail as JSON."),
    db: str = DbOpt, server: str | None = ServerOpt,
) -> None:
    """From a (retired) serial back to the plot data.

    Issuance and buffer, monitoring report, the verifier's signed attestation, and every number of
    the quantification with its step, methodology clause, dataset record and input file.

    Example: hesuan registry trace HSN-CN-1-2024-1-2425-43 --db reg.db
    """
    from hesuan.cli.quantify import print_trace

    client = _connect(db, server, None)
    try:
        result = client.get("/serials/{serial}/trace", {"serial": serial})
    finally:
        client.close()
    if as_json:
        typer.echo(json.dumps(result, indent=1, default=str))
    else:
        print_trace(result)


@app.command()
def audit(
    after: int = typer.Option(0, help="Show events after this sequence number."),
    limit: int = typer.Option(50, help="Page size (1–500)."),
    db: str = DbOpt, server: str | None = ServerOpt, as_json: bool = JsonOption,
) -> None:
    """Print audit events (hash chain) in order.

    Example: hesuan registry audit --after 10 --limit 20
    """
    _run(db, server, None, as_json, lambda c: c.get("/audit/events", after_seq=after, limit=limit))


@app.command()
def verify(db: str = DbOpt, server: str | None = ServerOpt,
           as_json: bool = JsonOption) -> None:
    """Recompute the hash chain, replay the log into balances, check invariants.

    Exit status 1 when anything is wrong (the first bad event is named).

    Example: hesuan registry verify --db reg.db
    """
    client = _connect(db, server, None)
    try:
        out = client.get("/audit/verify")
    finally:
        client.close()
    _print(out, as_json)
    if not out["ok"]:
        err_console.print(f"[bold red]audit failed[/bold red] at event {out['first_bad_event']}")
        raise typer.Exit(1)


@app.command()
def keygen(
    out: Path = typer.Argument(..., help="Path of the private key file to write (the public "
                                         "key goes to the same path + '.pub')."),
) -> None:
    """Write a new Ed25519 key pair for the transparency log's signed tree heads.

    The private key (PKCS #8 PEM, readable only by you) is what `hesuan serve
    --signing-key` signs with; publish the .pub file (the server also serves it at
    /transparency/public-key) so anyone can check proofs offline. Existing files are never
    overwritten.

    Example: hesuan registry keygen /etc/hesuan/log-key.pem
    """
    from hesuan.registry.transparency.heads import write_key_pair

    private, public = write_key_pair(out)
    console.print_json(json.dumps({"private_key": str(private), "public_key": str(public)}))


def _read_document(path: Path, model: Any, what: str) -> Any:
    from pydantic import ValidationError

    from hesuan.errors import InputError

    try:
        return model.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise InputError.single(f"cannot read the {what} ({exc.strerror})", file=path) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError.single(f"not a {what}: {first['msg']}", file=path,
                                field=".".join(str(p) for p in first["loc"]) or None,
                                expected="a file of docs/schemas/transparency.schema.json"
                                ) from None


@app.command("verify-proof")
def verify_proof(
    public_key: Path = typer.Option(..., "--public-key", help="The log's public key: PEM "
                                    "(keygen's .pub file) or the JSON of GET "
                                    "/transparency/public-key."),
    tree_head: Path = typer.Option(None, "--tree-head", help="A signed tree head (JSON, "
                                   "GET /transparency/tree-head)."),
    inclusion: Path = typer.Option(None, "--inclusion", help="An inclusion proof (JSON, GET "
                                   "/transparency/inclusion?seq=N) for --tree-head."),
    earlier: Path = typer.Option(None, "--earlier", help="An earlier signed tree head you "
                                 "kept; with --consistency, checked to be a prefix of "
                                 "--tree-head."),
    consistency: Path = typer.Option(None, "--consistency", help="A consistency proof "
                                     "(JSON, GET /transparency/consistency?first=M&second=N)."),
    certificate: Path = typer.Option(None, "--certificate", help="A retirement certificate "
                                     "(JSON, GET /transparency/retirements/ID/certificate)."),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    r"""Check the transparency log's files offline, with nothing but the public key.

    Exit status 2 with one message at the first check that fails (a signature, an
    audit path, an event's content, a fork between two tree heads).

    For example:
      hesuan registry verify-proof --public-key log.pub --tree-head sth.json \
          --inclusion proof.json
      hesuan registry verify-proof --public-key log.pub --earlier old.json \
          --tree-head new.json --consistency c.json
      hesuan registry verify-proof --public-key log.pub --certificate R12.json
    """
    from hesuan.errors import InputError
    from hesuan.registry.transparency import documents as d
    from hesuan.registry.transparency import verify as v
    from hesuan.registry.transparency.heads import load_public_key

    try:
        text = public_key.read_bytes()
        if text.lstrip().startswith(b"{"):  # the API's document: {"public_key_pem": …}
            text = _read_document(public_key, d.PublicKey, "public key").public_key_pem.encode()
        key = load_public_key(text, str(public_key))
    except OSError as exc:
        raise InputError.single(f"cannot read the public key ({exc.strerror})",
                                file=public_key) from None
    head = None if tree_head is None else _read_document(tree_head, d.SignedTreeHead,
                                                          "signed tree head")
    checks: list[str] = []
    if certificate is not None:
        checks += v.check_certificate(key, _read_document(certificate, d.RetirementCertificate,
                                                          "retirement certificate"))
    if inclusion is not None:
        if head is None:
            raise InputError.single("an inclusion proof is checked against a tree head",
                                    field="--tree-head", expected="the signed tree head file")
        checks += v.check_inclusion(key, head, _read_document(inclusion, d.InclusionProof,
                                                              "inclusion proof"))
    if consistency is not None or earlier is not None:
        if head is None or earlier is None or consistency is None:
            raise InputError.single("a consistency check needs --earlier, --tree-head and "
                                    "--consistency", field="--consistency")
        checks += v.check_consistency(
            key, _read_document(earlier, d.SignedTreeHead, "signed tree head"), head,
            _read_document(consistency, d.ConsistencyProof, "consistency proof"))
    if not checks:
        if head is None:
            raise InputError.single("nothing to check", field="--tree-head",
                                    expected="a tree head, proof or certificate file")
        checks += v.check_tree_head(key, head)
    if as_json:
        console.print_json(json.dumps({"ok": True, "checks": checks}))
    else:
        for line in checks:
            console.print(f"ok  {line}", highlight=False)


def serve(
    db: str = DbOpt,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="TCP port."),
    init: bool = typer.Option(False, help="Initialise the registry first if the database is "
                                          "empty (prints the admin token)."),
    log_level: str = typer.Option("warning"),
    workers: int = typer.Option(1, help="HTTP worker processes. Writes always go to one "
                                         "writer process besides them, which commits them "
                                         "in groups; on 2 cores 1 and 2 are about as fast."),
    allow_unverified: bool = typer.Option(
        False, "--allow-unverified",
        help="Serve a database that fails verification or lacks its append-only triggers "
             "(for forensics only; by default such a database is refused)."),
    signing_key: Path | None = typer.Option(
        None, "--signing-key", envvar="HESUAN_REGISTRY_SIGNING_KEY",
        help="Ed25519 key file that signs the transparency log's tree heads (made by "
             "'hesuan registry keygen'; keep it outside the database and its backups)."),
) -> None:
    """Run the registry's REST API (OpenAPI at /docs and /openapi.json).

    The server is uvicorn's HTTP worker(s) plus one writer process that runs every write
    (group commits); stopping the server stops both. Before serving, the whole database is
    verified (hash chain, every table against the journal, append-only triggers); a
    database that fails is refused with the problems named.

    Example: hesuan serve --db reg.db --port 8000
    """
    from hesuan.registry.api.server import run_server
    from hesuan.registry.domain.codes import RegistryRejection

    _require_free_port(host, port)
    if init:
        reg = _open_registry(db, create=True)
        try:
            console.print_json(json.dumps(reg.bootstrap()))
        except RegistryRejection:
            err_console.print("registry already initialised")
        finally:
            reg.close()
    else:
        require_registry(db)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    console.print(f"hesuan registry API on {url}  (web application {url}/web/, docs "
                  f"{url}/docs, {url}/redoc; "
                  "Ctrl+C stops)", highlight=False, markup=False, soft_wrap=True)
    console.file.flush()
    run_server(db, host=host, port=port, log_level=log_level, workers=workers,
               allow_unverified=allow_unverified,
               signing_key=None if signing_key is None else str(signing_key),
               app_factory="hesuan.web.serve:app_from_env")


def _require_free_port(host: str, port: int) -> None:
    """Refuse a port that another program already listens on (before any process starts)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise RegistryCliError(f"cannot listen on {host}:{port} ({exc.strerror}); choose "
                                   "another --port or --host") from None


def run_demo(out: Path) -> list[Path]:
    """Run the registry demo on bundled example data; return the output paths.

    Quantifies the bundled example plots under AR-ACM0003 (``hesuan.quantification``), then
    builds a fresh SQLite registry in ``out/registry/``: parties, a project, a monitoring
    report carrying that quantification report, the verifier's signed attestation,
    issuance with buffer / share-of-proceeds / overall-mitigation deductions, a transfer, a
    retirement with its statement, and an audit verification. Writes
    ``out/registry_demo.json``.
    """
    from hesuan.registry.engine import Registry

    folder = out / "registry"
    folder.mkdir(parents=True, exist_ok=True)
    db_file = folder / "registry.db"
    for stale in folder.glob("registry.db*"):
        stale.unlink()
    report_text, key = _demo_quantification(folder)
    reg = Registry.open(f"sqlite:///{db_file}")
    try:
        result = _demo_steps(reg, report_text, key)
    finally:
        reg.close()
    from hesuan.io.jsonout import write_json
    from hesuan.io.outputs import OutputSet

    with OutputSet("registry demo") as outs:
        planned = outs.add(out / "registry_demo.json", "json")
        write_json(planned.tmp, result)
    target = planned.path
    console.print(f"  issued {result['issuance']['quantity']} units "
                  f"(buffer {result['issuance']['buffer_quantity']}, share of proceeds "
                  f"{result['issuance']['share_of_proceeds_quantity']}, overall mitigation "
                  f"{result['issuance']['overall_mitigation_quantity']}); audit "
                  f"{'verified' if result['audit']['ok'] else 'FAILED'} over "
                  f"{result['audit']['events']} events", highlight=False)
    return [target, db_file]


def _demo_quantification(folder: Path) -> tuple[str, bytes]:
    """Quantify the bundled example under AR-ACM0003@02.0 and make the demo verifier's key.

    The example is copied to ``folder/example``, its second period's report is written beside
    it, and a new Ed25519 key is made for the demo's verifier. Returns (report text, private
    key PEM).
    """
    import shutil

    from hesuan.examples import path as example_path
    from hesuan.quantification import quantify, to_json
    from hesuan.quantification.attestation import new_key

    src = example_path("quantification", "project.toml").parent
    dst = folder / "example"
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    project = dst / "project.toml"
    text = project.read_text(encoding="utf-8")
    text = (text.replace('methodology = "CCER-14-001"', 'methodology = "AR-ACM0003"')
            .replace('methodology_version = "V01"', 'methodology_version = "02.0"')
            .replace("[applicability]", "[applicability]\norganic_soil_disturbance_pct = 0"
                     "\nrestricted_land_disturbance_pct = 0", 1))
    project.write_text(text, encoding="utf-8")
    report_text = to_json(quantify(project)[-1])
    (folder / "quantification.json").write_text(report_text, encoding="utf-8")
    key, _public = new_key()
    return report_text, key


def _demo_steps(reg: Any, report_text: str, key: bytes) -> dict[str, Any]:
    from hesuan.quantification.attestation import attest, public_key_hex
    from hesuan.quantification.check import parse_report

    boot = reg.bootstrap(share_of_proceeds_pct="5", overall_mitigation_pct="2", rounding="up")
    admin = reg.authenticate(boot["token"])
    tokens = {}
    for k, (name, role, country) in enumerate([
        ("Mau Forest Trust", "proponent", "KE"), ("EcoVerify VVB", "verifier", None),
        ("Acme Airlines", "holder", "DE"), ("Kenya Climate Change Directorate",
                                            "host_authority", "KE")]):
        tokens[role] = reg.authenticate(
            reg.create_party(admin, f"demo-party-{k}", name=name, role=role,
                             country=country)["token"])
    prop, ver, hold, auth = (tokens[r] for r in ("proponent", "verifier", "holder",
                                                 "host_authority"))
    reg.accredit_verifier(admin, "demo-accredit", party_id=ver.party_id, sector="AFOLU",
                          public_key=public_key_hex(key))
    proj = reg.create_project(prop, "demo-project", name="Mau Forest restoration",
                              methodology_id="AR-ACM0003", methodology_version="02.0",
                              host_country="KE", host_region="Nakuru", sector="AFOLU",
                              crediting_start="2020-01-01", crediting_end="2039-12-31",
                              buffer_pct="20")
    pid = proj["project_id"]
    reg.transition_project(ver, "demo-validate", project_id=pid, status="validated")
    reg.transition_project(admin, "demo-register", project_id=pid, status="registered")
    # The proponent reports part of the quantification report's 2024 units; the verifier
    # approves a smaller quantity, as verifiers often do, and signs its attestation.
    reported, verified = 1200, 1000
    rep = reg.submit_report(prop, "demo-report", project_id=pid, period_start="2024-01-01",
                            period_end="2024-12-31", reported_quantity=reported,
                            quantification=report_text)
    attestation = attest(parse_report(report_text), key, verifier="EcoVerify VVB",
                         verified_units=verified).model_dump_json()
    reg.verify_report(ver, "demo-verify", report_id=rep["report_id"],
                      verified_quantity=verified, attestation=attestation)
    iss = reg.issue(admin, "demo-issue", report_id=rep["report_id"], quantity=verified,
                    vintage=2024)
    reg.authorise(auth, "demo-authorise", issuance_id=iss["issuance_id"],
                  uses=["corsia", "ndc"], first_transfer="authorisation",
                  reference="KE-CCD-LoA-2025-001", authorised_on="2025-02-01")
    buyer = reg.open_account(hold, "demo-account", name="Acme Airlines holding")
    tr = reg.transfer(prop, "demo-transfer", from_account=proj["forward_account_id"],
                      to_account=buyer["account_id"], quantity=300)
    ret = reg.retire(hold, "demo-retire", from_account=buyer["account_id"], quantity=120,
                     beneficiary="Acme Airlines passengers 2024", purpose="corsia",
                     claim_start="2024-01-01", claim_end="2024-12-31",
                     note="CORSIA first phase offsetting, illustrative")
    audit_report = reg.verify()
    balances = {a["name"]: a["balance"]
                for a in reg.query("accounts", actor=admin, limit=100)}
    blocks = {}
    for a in reg.query("accounts", actor=admin, limit=100):
        view = reg.query("account", actor=admin, account_id=a["id"], limit=100)
        if view["blocks"]:
            blocks[a["name"]] = [b["serial"] for b in view["blocks"]]
    return {"registry": "hesuan registry demo", "project": proj, "report": rep,
            "issuance": iss, "transfer": tr, "retirement": ret, "balances": balances,
            "serial_blocks": blocks, "retirement_statement": ret["statement"],
            "audit": audit_report}


export_app = typer.Typer(
    help="Public exports of a local registry: Article 6.2 AEF tables, CAD Trust records.\n\n"
         "Example:  hesuan registry export aef --party KE --year 2025 --approach-id CA0004 "
         "--out aef-2025 --db reg.db",
    no_args_is_help=True)
app.add_typer(export_app, name="export")

OutDirOpt = typer.Option(..., "--out", help="Folder to write into (made if missing; gets a "
                                            "hesuan-manifest.json).")
OverwriteOpt = typer.Option(False, "--overwrite", help="Replace an earlier export in --out.")


@export_app.command("aef")
def export_aef(
    party: str = typer.Option(..., "--party", help="Reporting Party, ISO 3166-1 alpha-2 (the "
                              "host country of the authorised projects), e.g. KE."),
    year: int = typer.Option(..., "--year", help="Reporting year (calendar year of the "
                             "actions), e.g. 2025."),
    approach_id: str = typer.Option(..., "--approach-id", help="Cooperative approach ID "
                                    "(CANNNN, as the centralized accounting and reporting "
                                    "platform assigned it), part of every ITMO unique "
                                    "identifier, e.g. CA0004."),
    registry_id: str | None = typer.Option(None, "--registry-id", help="Party ITMO registry "
                                           "ID in the ITMO unique identifiers: if given, "
                                           "must be the one set with set-itmo-registry-id "
                                           "(default: that one, else this registry's code)."),
    cooperative_approach: str = typer.Option(
        "Cooperative approach", "--cooperative-approach", help="Name/ID of the cooperative "
        "approach (AEF column 'Cooperative approach'), e.g. 'Article 6.4 mechanism'."),
    layout: str = typer.Option("6/CMA.4", "--layout", help="The format: 6/CMA.4 (Tables "
                               "1-3, laid out as the AEF template) or 4/CMA.6 (its five "
                               "tables: submission, authorizations, actions, holdings, "
                               "authorized entities)."),
    out: Path = OutDirOpt, overwrite: bool = OverwriteOpt, db: str = DbOpt,
    as_json: bool = JsonOption,
) -> None:
    """Write a Party's Article 6.2 agreed-electronic-format tables (Decision 6/CMA.4).

    Laid out as its AEF template spreadsheet: aef_actions.csv (Table 2), aef_holdings.csv
    (Table 3) and aef.xlsx (sheet Actions with Table 1: Heading and Table 2; sheet
    Holdings), with each ITMO block's first and last unique identifier
    (APPROACH-REGISTRY-PARTY-SERIAL-VINTAGE). Holdings are those at the end of the year,
    checked to follow from the actions. Read in one snapshot.

    Example: hesuan registry export aef --party KE --year 2025 --approach-id CA0004
    --out aef-KE-2025 --db reg.db
    """
    from hesuan.registry.domain.aef6 import AefLayout
    from hesuan.registry.service import exports

    if layout not in {x.value for x in AefLayout}:
        raise RegistryCliError(f"--layout {layout!r}: expected "
                               f"{' or '.join(x.value for x in AefLayout)}")
    if len(party) != 2 or not party.isalpha() or not party.isupper():
        raise RegistryCliError(f"--party {party!r}: expected an ISO 3166-1 alpha-2 code in "
                               "capitals, such as KE")
    if not 1900 <= year <= 9999:
        raise RegistryCliError(f"--year {year}: expected a calendar year such as 2025")
    reg = _open_registry(db)
    try:
        with reg.read() as s, s.begin():
            tables = exports.aef_tables(s, party=party, year=year, approach_id=approach_id,
                                        registry_id=registry_id,
                                        cooperative_approach=cooperative_approach)
    finally:
        reg.close()
    files = exports.write_aef(tables, out, overwrite=overwrite, layout=AefLayout(layout))
    _print({"party": party, "year": year, "layout": layout, "actions": len(tables.actions),
            "holdings": len(tables.holdings), "files": [str(f) for f in files]}, as_json)


@export_app.command("cadt")
def export_cadt(
    out: Path = OutDirOpt, overwrite: bool = OverwriteOpt,
    registry_link: str = typer.Option(..., "--registry-link", help="Public base URL of this "
                                      "registry's API, e.g. https://registry.example.org "
                                      "(CAD Trust projectLink/unitRegistryLink)."),
    db: str = DbOpt, as_json: bool = JsonOption,
) -> None:
    """Write projects, issuances and units in the Climate Action Data Trust data model v1.

    One unit per block, with its unit status and the corresponding-adjustment declaration and
    status; the JSON Schema is registry/domain/cadt_v1.schema.json. Files: cadt.json and
    cadt_projects/project_locations/issuances/units.csv. Holders are not exported.

    Example: hesuan registry export cadt --registry-link https://registry.example.org
    --out cadt-export --db reg.db
    """
    from hesuan.registry.service import exports

    reg = _open_registry(db)
    try:
        with reg.read() as s, s.begin():
            records = exports.cadt_records(s, registry_link=registry_link)
    finally:
        reg.close()
    files = exports.write_cadt(records, out, overwrite=overwrite)
    _print({"projects": len(records.projects), "issuances": len(records.issuances),
            "units": len(records.units), "files": [str(f) for f in files]}, as_json)


@app.command("import-foreign")
def import_foreign(
    file: Path = typer.Argument(..., help="Another registry's public export: a CAD Trust "
                                "JSON export (.json) or a CSV/Excel serial list with columns "
                                "registry, project_id, vintage, block_start, block_end."),
    db: str = DbOpt, token: str | None = TokenOpt, key: str | None = KeyOpt,
    as_json: bool = JsonOption,
) -> None:
    """Record the issuances of another registry's public export.

    Administrator only; journaled, so `verify` covers them. Issuing here for a project whose
    external id and vintage another registry already issued is then refused
    (issuance_must_not_duplicate_foreign_issuance). Re-importing skips known blocks.

    Example: hesuan registry import-foreign verra-serials.csv --db reg.db --token $ADMIN
    """
    from hesuan.errors import InputError
    from hesuan.io.jsonout import loads
    from hesuan.io.tables import read_table
    from hesuan.registry.domain.foreign import SERIAL_LIST_SPEC, from_cadt, record

    if not file.is_file():
        raise InputError.single("no such file", file=file, expected="a .json or .csv file")
    if file.suffix.lower() == ".json":
        try:
            doc = loads(file.read_bytes(), file=str(file))
        except OSError as exc:
            raise InputError.single(f"cannot read ({exc.strerror})", file=file) from None
        records = from_cadt(doc, str(file))
    else:
        frame = read_table(file, SERIAL_LIST_SPEC).frame
        records = [record(r["registry"], r["project_id"], r["vintage"], r["block_start"],
                          r["block_end"], f"{file}: row {i + 2}")
                   for i, r in enumerate(frame.iter_rows(named=True))]
    if not token:
        raise RegistryCliError("--token: the administrator's token is needed")
    reg = _open_registry(db)
    try:
        actor = reg.authenticate(token)
        out = reg.record_foreign_issuances(actor, key or uuid.uuid4().hex, source=file.name,
                                           records=[r.as_dict() for r in records])
    finally:
        reg.close()
    _print(out, as_json)


@app.command("set-itmo-registry-id")
def set_itmo_registry_id(
    itmo_registry_id: str = typer.Argument(..., help="This registry's Party ITMO registry "
                                           "ID, e.g. KEN01."),
    db: str = DbOpt, token: str | None = TokenOpt, key: str | None = KeyOpt,
    as_json: bool = JsonOption,
) -> None:
    """Set this registry's Party ITMO registry ID, once (administrator; journaled).

    It is the registry part of every ITMO unique identifier the AEF export writes, and
    import-itmos refuses blocks of it (this registry's own ITMOs). It cannot be changed.

    Example: hesuan registry set-itmo-registry-id KEN01 --db reg.db --token $ADMIN
    """
    if not token:
        raise RegistryCliError("--token: the administrator's token is needed")
    reg = _open_registry(db)
    try:
        actor = reg.authenticate(token)
        out = reg.set_itmo_registry_id(actor, key or uuid.uuid4().hex,
                                       itmo_registry_id=itmo_registry_id)
    finally:
        reg.close()
    _print(out, as_json)


@app.command("import-itmos")
def import_itmos(
    file: Path = typer.Argument(..., help="CSV/Excel list of blocks of ITMOs that arrived "
                                "from another Party's registry, with columns registry_id, "
                                "approach_id, first_transferring_party, first_id, last_id, "
                                "vintage, authorization_id, authorised_on, purposes, sector, "
                                "transferring_party, acquired_on."),
    account: int = typer.Option(..., "--account", help="The holding account they reached."),
    db: str = DbOpt, token: str | None = TokenOpt, key: str | None = KeyOpt,
    as_json: bool = JsonOption,
) -> None:
    """Record ITMOs acquired from another Party's registry into a holder's account.

    Administrator only; journaled, so `verify` covers them. The AEF export reports each
    block as an Acquisition of the holder's country and holds it under its original unique
    identifiers.

    Example: hesuan registry import-itmos arrivals.csv --account 7 --db reg.db --token $ADMIN
    """
    from hesuan.io.tables import read_table
    from hesuan.registry.domain.codes import RegistryRejection
    from hesuan.registry.domain.foreign import ITMO_LIST_SPEC

    frame = read_table(file, ITMO_LIST_SPEC).frame
    records = [{k: (int(v) if k in ("first_id", "last_id", "vintage") else str(v))
                for k, v in row.items()} for row in frame.iter_rows(named=True)]
    if not token:
        raise RegistryCliError("--token: the administrator's token is needed")
    reg = _open_registry(db)
    try:
        actor = reg.authenticate(token)
        out = reg.record_foreign_itmos(actor, key or uuid.uuid4().hex, account_id=account,
                                       records=records)
    except RegistryRejection as exc:  # name the file's rows, not the request's items
        raise RegistryRejection(exc.code, _rows_of(file, exc.message)) from None
    finally:
        reg.close()
    _print(out, as_json)


def _rows_of(file: Path, message: str) -> str:
    """Return ``message`` with each ``records[i]`` as ``FILE, row i+2`` (header: row 1)."""
    message = re.sub(r"^records:", f"{file}:", message)
    return re.sub(r"records\[(\d+)\]", lambda m: f"{file}, row {int(m.group(1)) + 2}",
                  message)

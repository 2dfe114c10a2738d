"""The transparency log over the journal: signed tree heads, inclusion and consistency
proofs served by the API and checked offline with the public key alone; a rewrite of the
journal is detected by the holder of an earlier signed head (RFC 9162 §8.1.3-style
monitoring by a witness). Proof algorithms themselves: ``test_merkle.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from hesuan.registry.api import create_app
from hesuan.registry.api.inprocess import InProcessTransport
from hesuan.registry.db import tables as t
from hesuan.registry.domain.events import (
    GENESIS_HASH,
    canonical_json,
    chain_hash,
    event_body,
)
from hesuan.registry.transparency.documents import (
    ConsistencyProof,
    InclusionProof,
    RetirementCertificate,
    SignedTreeHead,
    json_schema,
)
from hesuan.registry.transparency.heads import load_public_key
from hesuan.registry.transparency.merkle import ProofError
from hesuan.registry.transparency.verify import (
    check_certificate,
    check_consistency,
    check_inclusion,
    check_tree_head,
)

from .conftest import World


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def client(world: World, key: Ed25519PrivateKey) -> Iterator[httpx.Client]:
    transport = InProcessTransport(create_app(world.reg, signing_key=key))
    with httpx.Client(transport=transport, base_url="http://testserver") as c:
        yield c


def _auth(w: World, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {w.tokens[who]}", "Idempotency-Key": w.key()}


def _transfer(w: World, client: httpx.Client, quantity: int = 1) -> None:
    r = client.post("/transfers", headers=_auth(w, "proponent"), json={
        "from_account": w.proponent_account, "to_account": w.holder_account,
        "quantity": quantity})
    assert r.status_code == 201, r.text


def _head(client: httpx.Client) -> SignedTreeHead:
    r = client.get("/transparency/tree-head")
    assert r.status_code == 200, r.text
    return SignedTreeHead.model_validate_json(r.text)


def _public_key(client: httpx.Client):
    return load_public_key(client.get("/transparency/public-key").json()["public_key_pem"],
                           "/transparency/public-key")


def test_tree_head_is_signed_and_its_root_is_the_verify_reports(
        world: World, client: httpx.Client) -> None:
    head = _head(client)
    report = world.reg.verify()
    assert head.tree_size == report["head_seq"] > 0
    assert head.root_hash == report["merkle_root"]  # the same RFC 6962 tree as verify's
    pub = _public_key(client)
    assert check_tree_head(pub, head)
    assert _head(client) == head  # nothing written: the stored head, not a new signature
    forged = head.model_copy(update={"tree_size": head.tree_size + 1})
    with pytest.raises(ProofError, match="signature"):
        check_tree_head(pub, forged)
    with pytest.raises(ProofError, match="names key"):
        check_tree_head(Ed25519PrivateKey.generate().public_key(), head)


def test_every_event_has_an_inclusion_proof_that_verifies_offline(
        world: World, client: httpx.Client) -> None:
    _transfer(world, client, 3)
    head = _head(client)
    pub = _public_key(client)
    for seq in range(1, head.tree_size + 1):
        r = client.get("/transparency/inclusion", params={"seq": seq})
        assert r.status_code == 200, r.text
        proof = InclusionProof.model_validate_json(r.text)
        check_inclusion(pub, head, proof)
    # a changed payload, a wrong audit path element, the wrong tree head: each refused
    proof = InclusionProof.model_validate_json(
        client.get("/transparency/inclusion", params={"seq": 2}).text)
    bad_event = proof.event.model_copy(update={"payload": {**proof.event.payload, "x": 1}})
    with pytest.raises(ProofError, match="does not hash"):
        check_inclusion(pub, head, proof.model_copy(update={"event": bad_event}))
    path = list(proof.audit_path)
    path[0] = "00" * 32
    with pytest.raises(ProofError, match="root hash"):
        check_inclusion(pub, head, proof.model_copy(update={"audit_path": path}))
    assert client.get("/transparency/inclusion",
                      params={"seq": head.tree_size + 1}).status_code == 404
    assert client.get("/transparency/inclusion",
                      params={"seq": 1, "tree_size": head.tree_size + 5}).status_code == 422


def test_consistency_between_two_signed_heads(world: World, client: httpx.Client) -> None:
    pub = _public_key(client)
    first = _head(client)
    for _ in range(5):
        _transfer(world, client)
    second = _head(client)
    assert second.tree_size == world.reg.verify()["events"]  # the head covers every event
    assert second.tree_size >= first.tree_size + 5  # a transfer adds at least its own event
    r = client.get("/transparency/consistency", params={"first": first.tree_size,
                                                        "second": second.tree_size})
    assert r.status_code == 200, r.text
    proof = ConsistencyProof.model_validate_json(r.text)
    assert check_consistency(pub, first, second, proof)
    # the proof for other sizes does not pass for these heads
    other = ConsistencyProof.model_validate_json(client.get(
        "/transparency/consistency", params={"first": first.tree_size - 1}).text)
    with pytest.raises(ProofError):
        check_consistency(pub, first, second, other)
    assert client.get("/transparency/consistency",
                      params={"first": second.tree_size + 1}).status_code == 422


def test_retirement_certificate_carries_its_inclusion_proof(
        world: World, client: httpx.Client) -> None:
    _transfer(world, client, 10)
    r = client.post("/retirements", headers=_auth(world, "holder"), json={
        "from_account": world.holder_account, "quantity": 4, "beneficiary": "Nairobi",
        "purpose": "voluntary", "claim_start": "2024-01-01", "claim_end": "2024-12-31"})
    assert r.status_code == 201, r.text
    rid = r.json()["retirement_id"]
    cert = RetirementCertificate.model_validate_json(
        client.get(f"/transparency/retirements/{rid}/certificate").text)
    pub = _public_key(client)
    checked = check_certificate(pub, cert)
    assert any("on behalf of Nairobi" in line for line in checked)
    forged = cert.model_copy(update={"statement": cert.statement.replace("Nairobi", "Oslo")})
    with pytest.raises(ProofError, match="beneficiary"):
        check_certificate(pub, forged)
    assert client.get("/transparency/retirements/999/certificate").status_code == 404


def _rewrite_journal(world: World, seq: int, change: dict) -> None:
    """What an attacker with database access but no signing key does: change event ``seq``'s
    payload and re-hash the chain after it consistently (append-only triggers dropped and
    restored), so that the hash chain verifies again."""
    engine = world.reg.engine
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE "
                                         "type='trigger' AND tbl_name='events'")).all()
            for name, _ in triggers:
                conn.execute(text(f"DROP TRIGGER {name}"))
        else:
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
        rows = conn.execute(t.events.select().order_by(t.events.c.seq)).all()
        prev = GENESIS_HASH
        for r in rows:
            payload = json.loads(r.payload)
            if r.seq == seq:
                payload.update(change)
            body = canonical_json(event_body(r.seq, r.type, r.at, r.actor, payload))
            new_hash = chain_hash(prev, body)
            conn.execute(t.events.update().where(t.events.c.seq == r.seq).values(
                payload=canonical_json(payload), prev_hash=prev, hash=new_hash))
            prev = new_hash
        conn.execute(t.registry_meta.update().values(head_hash=prev))
        if conn.dialect.name == "sqlite":
            for _, sql in triggers:
                conn.execute(text(sql))
        else:
            conn.execute(text("ALTER TABLE events ENABLE TRIGGER USER"))


def test_a_rewritten_journal_is_detected_by_the_holder_of_an_earlier_signed_head(
        world: World, client: httpx.Client) -> None:
    pub = _public_key(client)
    _transfer(world, client, 7)
    earlier = _head(client)  # a witness keeps this
    moved = next(r for r in world.reg.query("events", after_seq=0, limit=500)
                 if r["type"] == "units_moved" and r["payload"].get("serial_count") == 7)
    _rewrite_journal(world, moved["seq"], {"to_account": world.holder2_account})  # theft
    # the server refuses to sign a tree that does not extend the head it signed last
    _transfer(world, client)
    r = client.get("/transparency/tree-head")
    assert r.status_code == 503 and r.json()["code"] == "journal_must_extend_signed_tree_head"
    # the attacker also wipes the stored heads and subtree hashes: the server signs the
    # rewritten tree, and the witness's consistency check fails
    with world.reg.engine.begin() as conn:
        conn.execute(text("DELETE FROM tree_heads"))
        conn.execute(text("DELETE FROM merkle_nodes"))
    later = _head(client)
    assert later.tree_size > earlier.tree_size
    check_tree_head(pub, later)  # validly signed by the key, over the rewritten journal
    proof = ConsistencyProof.model_validate_json(client.get(
        "/transparency/consistency",
        params={"first": earlier.tree_size, "second": later.tree_size}).text)
    with pytest.raises(ProofError, match="earlier tree head"):
        check_consistency(pub, earlier, later, proof)


def test_without_a_signing_key_the_log_routes_say_so(world: World) -> None:
    transport = InProcessTransport(create_app(world.reg))
    with httpx.Client(transport=transport, base_url="http://testserver") as c:
        r = c.get("/transparency/tree-head")
    assert r.status_code == 404
    assert r.json()["code"] == "transparency_log_needs_signing_key"


def test_published_schema_matches_the_models() -> None:
    from pathlib import Path

    published = Path(__file__).parents[2] / "docs" / "schemas" / "transparency.schema.json"
    assert json.loads(published.read_text()) == json_schema()


def test_keygen_and_verify_proof_on_the_command_line(world: World, tmp_path,
                                                     capsys) -> None:
    import os
    import stat
    from pathlib import Path

    from hesuan.cli import main
    from hesuan.registry.transparency.heads import load_signing_key

    key_path = tmp_path / "log-key.pem"
    with pytest.raises(SystemExit) as done:
        main(["registry", "keygen", str(key_path)])
    assert done.value.code in (0, None)
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    with pytest.raises(SystemExit) as again:  # never overwritten
        main(["registry", "keygen", str(key_path)])
    assert again.value.code == 2 and "never overwritten" in capsys.readouterr().err

    transport = InProcessTransport(create_app(world.reg,
                                              signing_key=load_signing_key(key_path)))
    with httpx.Client(transport=transport, base_url="http://testserver") as c:
        old = c.get("/transparency/tree-head").text
        _transfer(world, c, 2)
        files = {"old.json": old, "sth.json": c.get("/transparency/tree-head").text,
                 "inc.json": c.get("/transparency/inclusion", params={"seq": 3}).text,
                 "con.json": c.get("/transparency/consistency",
                                   params={"first": json.loads(old)["tree_size"]}).text}
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    pub = str(key_path) + ".pub"
    (tmp_path / "pub.json").write_text(files["sth.json"] and json.dumps(
        {"algorithm": "Ed25519", "key_id": json.loads(files["sth.json"])["key_id"],
         "public_key_pem": Path(pub).read_text()}))
    with pytest.raises(SystemExit) as from_json:  # the API's public-key document works too
        main(["registry", "verify-proof", "--public-key", str(tmp_path / "pub.json"),
              "--tree-head", str(tmp_path / "sth.json")])
    assert from_json.value.code in (0, None) and "signed by key" in capsys.readouterr().out
    with pytest.raises(SystemExit) as ok:
        main(["registry", "verify-proof", "--public-key", pub, "--tree-head",
              str(tmp_path / "sth.json"), "--inclusion", str(tmp_path / "inc.json"),
              "--earlier", str(tmp_path / "old.json"), "--consistency",
              str(tmp_path / "con.json"), "--json"])
    assert ok.value.code in (0, None)
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and any("is a prefix of" in c for c in report["checks"])

    forged = json.loads(files["inc.json"])
    forged["event"]["payload"]["serial_count"] = 200
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    with pytest.raises(SystemExit) as bad:
        main(["registry", "verify-proof", "--public-key", pub, "--tree-head",
              str(tmp_path / "sth.json"), "--inclusion", str(tmp_path / "forged.json")])
    assert bad.value.code == 2
    assert "does not hash to its chain hash" in capsys.readouterr().err
    (tmp_path / "junk.json").write_text('{"format": "nope"}')
    with pytest.raises(SystemExit) as junk:
        main(["registry", "verify-proof", "--public-key", pub, "--tree-head",
              str(tmp_path / "junk.json")])
    assert junk.value.code == 2 and "not a signed tree head" in capsys.readouterr().err


def test_concurrent_requests_for_a_new_tree_head_get_one_signed_head(
        world: World, client: httpx.Client, key: Ed25519PrivateKey) -> None:
    import threading

    from hesuan.registry.transparency.log import TransparencyLog

    _transfer(world, client)
    logs = [TransparencyLog(world.reg.engine, key) for _ in range(6)]
    heads: list[SignedTreeHead] = []
    errors: list[Exception] = []

    def ask(log: TransparencyLog) -> None:
        try:
            heads.append(log.tree_head())
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(log,)) for log in logs]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert len({h.tree_size for h in heads}) == 1
    assert len({h.signature for h in heads}) == 1  # the stored one, whoever signed first

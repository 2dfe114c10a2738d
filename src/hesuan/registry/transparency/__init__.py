"""A transparency log over the registry's journal, as Certificate Transparency does it (RFC 9162).

A Merkle tree of the events (:mod:`.merkle`), its subtree hashes kept in the database
(:mod:`.store`), signed tree heads with Ed25519 (:mod:`.heads`) and offline verification of
inclusion and consistency proofs (:mod:`.verify`).
"""

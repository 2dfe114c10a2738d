"""Pure registry rules: serial blocks, rejection codes, deductions, events, replay, invariants.

Nothing in this package does I/O or imports ``db``, ``service`` or ``api``.
"""

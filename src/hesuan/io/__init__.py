"""Input and output mechanisms shared by every command.

- :mod:`hesuan.io.tables` — one declarative table spec (:class:`~hesuan.io.tables.TableSpec`)
  and one reader (:func:`~hesuan.io.tables.read_table`) for CSV (any usual encoding and
  delimiter), Parquet and Excel; the same spec renders ``--help`` text, the docs' column
  tables and JSON Schema.
- :mod:`hesuan.io.outputs` — :class:`~hesuan.io.outputs.OutputSet`: the outputs of a run are
  checked before any work, written to temporary names and published together, or none.
- :mod:`hesuan.io.jsonout` — strict JSON (no ``NaN``/``Infinity``) naming the key path of a
  non-finite number.
- :mod:`hesuan.io.provenance` — :class:`~hesuan.io.provenance.Provenance`, the record every
  summary embeds (hesuan version, inputs with SHA-256, parameters, datasets, run time).

This package sits just above :mod:`hesuan.errors` and :mod:`hesuan.units`: it imports no
other part of hesuan, so every layer may use it. Import the submodules themselves (this
``__init__`` imports nothing, keeping ``import hesuan.io`` free).
"""

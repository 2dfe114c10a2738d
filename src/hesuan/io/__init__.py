"""Input and output mechanisms shared by every command.

- :mod:`hesuan.io.spec` — the declaration of a table (:class:`~hesuan.io.spec.TableSpec`,
  :class:`~hesuan.io.spec.ColumnSpec`) and what it renders: ``--help`` text, the docs'
  column tables, JSON Schema, a pydantic row model (no data library imported).
- :mod:`hesuan.io.tables` — the one reader (:func:`~hesuan.io.tables.read_table`) for CSV
  (any usual encoding and delimiter), Parquet and Excel, checking a file against its spec
  (it re-exports the names of :mod:`hesuan.io.spec`).
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

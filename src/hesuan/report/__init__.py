"""Human-readable reports (HTML, with plots) over calculation results.

This is the only layer that rounds numbers for display; calculation results stay unrounded.
Each area has its own module (``transport``, ``land`` …) built on the helpers in ``_html``.
"""

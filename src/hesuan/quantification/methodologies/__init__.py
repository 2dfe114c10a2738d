"""The methodology modules; importing this package registers each of them.

To add a methodology: write ``<name>.py`` here declaring a
:class:`~hesuan.quantification.spec.MethodologySpec` and calling
:func:`~hesuan.quantification.spec.register`, import it below, and add its record to the
methodology catalogue of ``hesuan.standards`` (``quantification = report``).
"""

from hesuan.quantification.methodologies import ar_acm0003, ccer_14_001  # noqa: F401

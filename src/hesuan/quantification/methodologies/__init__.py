"""The methodology modules; importing this package registers each of them.

To add a methodology: write ``<name>.py`` here declaring a
:class:`~hesuan.quantification.spec.MethodologySpec` and calling
:func:`~hesuan.quantification.spec.register`, import it below, and add its record to the
methodology catalogue of ``hesuan.standards`` naming the module (``module``, ``tools``,
``report_schema``) in a new catalogue version; ``tests/quantification/test_catalogue_agreement.py``
checks that the two agree.
"""

from hesuan.quantification.methodologies import ar_acm0003, ccer_14_001  # noqa: F401

"""The web application: registry explorer, account pages, workbenches, standards, Learn pages.

Server-rendered (Jinja2) in English and Simplified Chinese.

It runs on the registry's FastAPI app (``hesuan serve``) under ``/web`` and calls the same
Python API as the REST API and the CLI (:class:`hesuan.registry.engine.Registry`,
:func:`hesuan.transport.calculate`, :func:`hesuan.land.carbon.run`, :mod:`hesuan.standards`);
it implements no rule of its own.

>>> from hesuan.registry.api import create_app           # doctest: +SKIP
>>> from hesuan.web import mount                          # doctest: +SKIP
>>> app = mount(create_app(registry))                     # doctest: +SKIP
"""

from hesuan.web.app import create_web_app, mount

__all__ = ["create_web_app", "mount"]

"""The examples in hesuan's docstrings run and print what they show (``doctest``).

Every module of the package is imported and its docstring examples run; an example marked
``# doctest: +SKIP`` (one that needs a server, a large file or the network) is not.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import hesuan

#: Modules that cannot be imported on their own: Alembic's migration scripts run only inside
#: a migration (they read ``alembic.context``).
NOT_IMPORTABLE = ("hesuan.registry.db.migrations",)


def _modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(hesuan.__path__, "hesuan.")]
    # ``__main__`` modules run their program when imported: they hold no examples
    return sorted(n for n in names
                  if not n.startswith(NOT_IMPORTABLE) and not n.endswith(".__main__"))


def _with_examples() -> list[str]:
    finder = doctest.DocTestFinder()
    return [name for name in _modules()
            if any(not example.options.get(doctest.SKIP)
                   for test in finder.find(importlib.import_module(name))
                   for example in test.examples)]


@pytest.mark.parametrize("module", _with_examples())
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module),
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"

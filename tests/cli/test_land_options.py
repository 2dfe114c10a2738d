"""The options shared by the ``hesuan land`` commands: ``KEY=VALUE`` pairs and --overwrite."""

from __future__ import annotations

import pytest

from hesuan.cli._land_options import key_values
from hesuan.errors import InputError


def test_key_values_keep_the_text_after_the_first_equals_sign():
    assert key_values(["a=1", "b=x=y", "a=2"], "--opt", "K=V") == {"a": "2", "b": "x=y"}
    assert key_values([], "--opt", "K=V") == {}


@pytest.mark.parametrize("item", ["forest", "=5", "forest=", "="])
def test_a_pair_without_key_or_value_names_the_option_and_the_form(item):
    with pytest.raises(InputError) as err:
        key_values(["ok=1", item], "--catastrophic", "ECOSYSTEM_TYPE=LOSS")
    text = str(err.value)
    assert f"bad --catastrophic {item!r}" in text
    assert "--catastrophic" in text and "ECOSYSTEM_TYPE=LOSS" in text


@pytest.mark.parametrize("path", [["carbon"], ["gep", "run"], ["habitat"],
                                  ["ipcc", "transitions"], ["seea", "extent"],
                                  ["seea", "supply-use"], ["seea", "asset"]])
def test_every_land_run_folder_takes_the_one_overwrite_option(path):
    import typer

    from hesuan.cli._console import OverwriteOption
    from hesuan.cli.land import app

    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    (option,) = [p for p in command.params if "--overwrite" in p.opts]
    assert option.help == OverwriteOption.help and option.default is False

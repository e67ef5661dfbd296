"""Every setting and every CLI command is documented in the README."""

from __future__ import annotations

from pathlib import Path

import typer.main

from cxloop import cli
from cxloop.config import Settings

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme():
    missing = [
        f"CXLOOP_{name.upper()}"
        for name in Settings.model_fields
        if f"`CXLOOP_{name.upper()}`" not in README
    ]
    assert missing == []


def _commands(group: typer.Typer, prefix: str = "cxloop") -> list[str]:
    click_group = typer.main.get_group(group)
    names = []

    def walk(cmd: object, path: str) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, f"{path} {name}")
        else:
            names.append(path)

    walk(click_group, prefix)
    return names


def test_every_cli_command_is_in_the_readme():
    cli._register_area_commands()
    missing = [c for c in _commands(cli.app) if f"`{c}" not in README]
    assert missing == []


def test_quickstart_is_two_make_commands():
    block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in block.strip().splitlines()] == [
        ["make", "demo"],
        ["make", "test"],
    ]

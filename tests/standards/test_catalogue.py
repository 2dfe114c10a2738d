"""docs/standards.md is generated from the data; it must list every shipped dataset."""

from pathlib import Path

from hesuan.standards import list_datasets
from hesuan.standards.catalogue import markdown_catalogue

DOC = Path(__file__).parents[2] / "docs" / "standards.md"


def test_docs_standards_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    for info in list_datasets():
        assert f"`{info.key}`" in text and info.licence in text, info.key
    assert text.strip() == markdown_catalogue().strip(), (
        "docs/standards.md is stale: run `hesuan factors list --markdown > docs/standards.md`"
    )


def test_notice_names_every_dataset_and_its_licence() -> None:
    notice = (DOC.parents[1] / "NOTICE").read_text(encoding="utf-8")
    for info in list_datasets():
        assert f"- {info.key}:" in notice and info.licence in notice, info.key

import pytest

from dlstudy.docblocks import read_block, write_block


def test_write_block_replaces_only_between_its_markers(tmp_path):
    doc = tmp_path / "studies.md"
    doc.write_text("intro\n<!-- results:a -->\nold\n<!-- /results -->\nmiddle\n<!-- results:b -->\nkeep\n<!-- /results -->\n")
    write_block(doc, "a", "new 1\nnew 2")
    assert doc.read_text() == ("intro\n<!-- results:a -->\nnew 1\nnew 2\n<!-- /results -->\nmiddle\n"
                               "<!-- results:b -->\nkeep\n<!-- /results -->\n")
    with pytest.raises(ValueError, match="results:c"):
        write_block(doc, "c", "x")


def test_read_block_gives_what_write_block_wrote(tmp_path):
    doc = tmp_path / "d.md"
    assert read_block(doc, "a") == ""  # no file yet
    doc.write_text("<!-- results:a -->\nold\n<!-- /results -->\n<!-- results:b -->\nother\n<!-- /results -->\n")
    write_block(doc, "a", "| x | 1 |\n| y | 2 |")
    assert read_block(doc, "a") == "| x | 1 |\n| y | 2 |\n" and read_block(doc, "b") == "other\n"
    assert read_block(doc, "c") == ""

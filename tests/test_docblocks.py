import pytest

from dlstudy.docblocks import write_block


def test_write_block_replaces_only_between_its_markers(tmp_path):
    doc = tmp_path / "studies.md"
    doc.write_text("intro\n<!-- results:a -->\nold\n<!-- /results -->\nmiddle\n<!-- results:b -->\nkeep\n<!-- /results -->\n")
    write_block(doc, "a", "new 1\nnew 2")
    assert doc.read_text() == ("intro\n<!-- results:a -->\nnew 1\nnew 2\n<!-- /results -->\nmiddle\n"
                               "<!-- results:b -->\nkeep\n<!-- /results -->\n")
    with pytest.raises(ValueError, match="results:c"):
        write_block(doc, "c", "x")

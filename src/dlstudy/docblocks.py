"""Generated evidence: replace the text between `<!-- results:NAME -->` and `<!-- /results -->` in a file."""

import re
from pathlib import Path


def replace_block(text: str, name: str, block: str) -> str:
    """`text` with what stands between `<!-- results:name -->` and the next `<!-- /results -->` replaced;
    the markers must be there, once."""
    pattern = re.compile(rf"(<!-- results:{re.escape(name)} -->\n?).*?(<!-- /results -->)", re.S)
    if len(pattern.findall(text)) != 1:
        raise ValueError(f"no '<!-- results:{name} -->' ... '<!-- /results -->' block to rewrite, or more than one")
    return pattern.sub(lambda m: f"<!-- results:{name} -->\n" + block.strip("\n") + "\n" + m.group(2), text)


def read_block(path: Path, name: str) -> str:
    """What stands between the markers of `name` in `path` ("" when the file or the block is missing)."""
    text = path.read_text() if path.exists() else ""
    found = re.search(rf"<!-- results:{re.escape(name)} -->\n?(.*?)<!-- /results -->", text, re.S)
    return found.group(1) if found else ""


def write_block(path: Path, name: str, text: str) -> None:
    """Put `text` between the markers of `name` in `path`."""
    try:
        path.write_text(replace_block(path.read_text(), name, text))
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None

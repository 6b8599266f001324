"""Generated evidence: replace the text between `<!-- results:NAME -->` and `<!-- /results -->` in a file."""

import re
from pathlib import Path


def _pattern(name: str) -> re.Pattern:
    """The block of `name`: its opening marker, what stands between, its closing marker."""
    return re.compile(rf"(<!-- results:{re.escape(name)} -->\n?)(.*?)(<!-- /results -->)", re.S)


def replace_block(text: str, name: str, block: str) -> str:
    """`text` with what stands between `<!-- results:name -->` and the next `<!-- /results -->` replaced;
    the markers must be there, once."""
    pattern = _pattern(name)
    if len(pattern.findall(text)) != 1:
        raise ValueError(f"no '<!-- results:{name} -->' ... '<!-- /results -->' block to rewrite, or more than one")
    return pattern.sub(lambda m: f"<!-- results:{name} -->\n" + block.strip("\n") + "\n" + m.group(3), text)


def read_block(path: Path, name: str) -> str:
    """What stands between the markers of `name` in `path` ("" when the file or the block is missing)."""
    found = _pattern(name).search(path.read_text() if path.exists() else "")
    return found.group(2) if found else ""


def write_block(path: Path, name: str, text: str) -> None:
    """Put `text` between the markers of `name` in `path`."""
    try:
        path.write_text(replace_block(path.read_text(), name, text))
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None

"""Card Markdown rendered as an EHR page renders it: GitHub-flavoured marked, the renderer
the preview page ships (``cds_b12/api/static/vendor/marked.umd.js``), run once per batch in
the Node that the test extra installs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

MARKED = Path(__file__).resolve().parents[1] / "cds_b12/api/static/vendor/marked.umd.js"
NODE = Path(sys.executable).parent / "node"
_SCRIPT = """
const marked = require(process.argv[1]);
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const html = JSON.parse(input).map((t) => marked.parse(t, { gfm: true, async: false }));
  process.stdout.write(JSON.stringify(html));
});
"""


def to_html(texts: list[str]) -> list[str]:
    """Each Markdown text as HTML."""
    proc = subprocess.run(
        [str(NODE), "-e", _SCRIPT, str(MARKED)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(proc.stdout)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") or dict(attrs).get("src")
        self.tags.append(f"{tag}[{href}]" if href else tag)


def structure(html: str) -> list[str]:
    """The elements of ``html`` in order, links and images with their targets: two texts
    with the same structure differ only in their characters, never in markup."""
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()

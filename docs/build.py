"""Build the documentation site: ``python docs/build.py``.

1. Runs every docstring example (``pytest --doctest-modules jaxdiv``): a
   doctest that does not pass fails the build.
2. Builds the HTML with Sphinx, warnings as errors (``-W``), which includes
   the coverage check: a public name without a reference entry is a warning.
3. Checks the result: every page's math is typeset (MathML, no raw
   ``:math:`` or ``$...$`` left in the text) and each gallery image is on the
   gallery page.

The site is written to ``docs/_build/html``; ``--no-doctest`` skips step 1.
"""

from __future__ import annotations

import argparse
import html.parser
import re
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
OUT = DOCS / "_build" / "html"


class _Text(html.parser.HTMLParser):
    """The text of a page outside code, and the images it shows."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.images: list[str] = []
        self.maths = 0
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("code", "pre", "script", "style", "math"):
            self._skip += 1
        if tag == "math":
            self.maths += 1
        if tag == "img":
            self.images.append(dict(attrs).get("src", ""))

    def handle_endtag(self, tag):
        if tag in ("code", "pre", "script", "style", "math"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _parse(page: Path) -> _Text:
    parser = _Text()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def check_site() -> list[str]:
    """Problems found in the built HTML (empty when it is right)."""
    problems = []
    raw_math = re.compile(r":math:`|\$[^$\s][^$]*\$|\\frac|\\sum_")
    for page in sorted(OUT.glob("*.html")):
        if page.name in ("genindex.html", "search.html", "py-modindex.html"):
            continue
        parsed = _parse(page)
        text = "".join(parsed.text)
        for match in raw_math.finditer(text):
            around = text[max(0, match.start() - 40) : match.end() + 40]
            problems.append(f"{page.name}: untypeset math near {around!r}")
    api = _parse(OUT / "api.html")
    if api.maths < 100:
        problems.append(f"api.html has only {api.maths} typeset formulas")
    gallery = _parse(OUT / "gallery.html")
    sources = DOCS.joinpath("gallery.md").read_text(encoding="utf-8")
    wanted = re.findall(r"_static/gallery/([\w-]+\.png)", sources)
    for name in wanted:
        if not any(src.endswith(name) for src in gallery.images):
            problems.append(f"gallery.html does not show {name}")
        if not (DOCS / "_static" / "gallery" / name).is_file():
            problems.append(f"docs/_static/gallery/{name} is missing")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-doctest", action="store_true", help="skip step 1")
    args = parser.parse_args(argv)
    root = DOCS.parent
    if not args.no_doctest:
        print("+ doctests", flush=True)
        doctest = [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "jaxdiv"]
        if subprocess.call(doctest, cwd=root):
            print("docs: a doctest failed", file=sys.stderr)
            return 1
    print("+ sphinx-build", flush=True)
    sphinx = [
        sys.executable,
        "-m",
        "sphinx",
        "-E",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        str(DOCS),
        str(OUT),
    ]
    if subprocess.call(sphinx, cwd=root):
        print("docs: sphinx-build failed (warnings are errors)", file=sys.stderr)
        return 1
    problems = check_site()
    for problem in problems:
        print(f"docs: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"docs: built {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

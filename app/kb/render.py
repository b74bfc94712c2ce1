"""Article bodies as HTML: plain text with a little markdown, every character of the text escaped.

Supported: ``#``/``##``/``###`` headings, ``-``/``*`` and ``1.`` lists, fenced code blocks (```` ``` ````),
inline ``code``, ``**bold**`` and ``[text](https://...)`` links (http and https only). Nothing else of the
text becomes markup: HTML typed into a body, ``<script>`` included, is shown as text.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_HEADING = re.compile(r"^(#{1,3})\s+(.+)$")
_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_FENCE = "```"
_BOLD = re.compile(r"\*\*([^*<>]+?)\*\*")
# Runs on escaped text (quotes and angle brackets are entities by then) after bold: a URL holding markup
# that bold just made is no URL.
_LINK = re.compile(r"\[([^\]<>]+)\]\((https?://[^\s)<>]+)\)")


def render_markdown(text: str | None) -> Markup:
    """The body as safe HTML (see the module docstring for what is understood)."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.strip().startswith(_FENCE):
            end = index + 1
            while end < len(lines) and not lines[end].strip().startswith(_FENCE):
                end += 1
            blocks.append(f"<pre><code>{escape(chr(10).join(lines[index + 1 : end]))}</code></pre>")
            index = end + 1
        elif not line.strip():
            index += 1
        elif heading := _HEADING.match(line):
            level = len(heading.group(1)) + 2  # the page has h1 and h2 already
            blocks.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            index += 1
        elif _BULLET.match(line) or _NUMBERED.match(line):
            pattern, tag = (_BULLET, "ul") if _BULLET.match(line) else (_NUMBERED, "ol")
            items = []
            while index < len(lines) and (item := pattern.match(lines[index])):
                items.append(f"<li>{_inline(item.group(1))}</li>")
                index += 1
            blocks.append(f"<{tag}>{''.join(items)}</{tag}>")
        else:
            paragraph = []
            while index < len(lines) and lines[index].strip() and not _starts_block(lines[index]):
                paragraph.append(_inline(lines[index]))
                index += 1
            blocks.append("<p>" + "<br>\n".join(paragraph) + "</p>")
    return Markup("\n".join(blocks))  # noqa: S704 - every piece of text above went through escape()


def _starts_block(line: str) -> bool:
    if line.strip().startswith(_FENCE):
        return True
    return any(pattern.match(line) for pattern in (_HEADING, _BULLET, _NUMBERED))


def _inline(text: str) -> str:
    """Escape a line, then mark up `code`, **bold** and links (code spans are left as they are)."""
    parts = text.split("`")
    html = []
    for position, part in enumerate(parts):
        closed = position % 2 == 1 and position < len(parts) - 1
        if closed:
            html.append(f"<code>{escape(part)}</code>")
            continue
        piece = str(escape(part))
        piece = _BOLD.sub(r"<strong>\1</strong>", piece)
        piece = _LINK.sub(r'<a href="\2" rel="nofollow noopener noreferrer">\1</a>', piece)
        html.append(("`" if position % 2 == 1 else "") + piece)
    return "".join(html)

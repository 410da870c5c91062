"""People's and marketers' text, cleaned once where it is saved.

Pure functions, no Django. What is removed can change what readers see
without being visible itself: control characters, and format characters
such as bidi overrides (U+202E flips everything after it, in our pages, in
embed snippets, og:title, oEmbed and Open Badges documents alike) and
zero-width spaces. A zero-width joiner is kept where it joins an emoji
sequence (👩‍💻), and line breaks where the text may have several lines.
"""

from __future__ import annotations

import unicodedata

ZWJ = "\u200d"
_EMOJI_NEIGHBOURS = ("So", "Sk", "Mn")  # emoji, skin tones, variation selectors


def plain_text(value: str, *, multiline: bool = False) -> str:
    """`value` without control or format characters (but emoji ZWJs, and newlines if asked)."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    kept: list[str] = []
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        if category == "Cc":
            if ch == "\n" and multiline:
                kept.append(ch)
            elif ch == "\t" or ch == "\n":
                kept.append(" ")
            continue
        if category == "Cf":
            after = text[i + 1] if i + 1 < len(text) else ""
            if ch == ZWJ and kept and _joins(kept[-1]) and after and _joins(after):
                kept.append(ch)
            continue
        kept.append(ch)
    return "".join(kept).strip()


def _joins(ch: str) -> bool:
    return unicodedata.category(ch) in _EMOJI_NEIGHBOURS

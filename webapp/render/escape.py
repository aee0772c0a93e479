"""The only ways user text reaches an output format: one function per label kind.

Every label is built from :func:`display_text` (control characters made visible, length capped),
then quoted for its format: :func:`escape` for a double-quoted DOT string, :func:`escape_mermaid`
for a double-quoted Mermaid label. HTML-like DOT labels are never used, so there is no third kind.
"""

from __future__ import annotations

LABEL_LIMIT = 200
"""Longest label text (in characters) before it is cut with an ellipsis."""

ELLIPSIS = "\u2026"

# C0 controls show as their Unicode "control picture" (U+2400 + code), DEL as U+2421; a tab is a
# space. C1 controls, line/paragraph separators and bidirectional overrides (which can make a label
# read differently from what it holds) become U+FFFD.
_REPLACE = {c: chr(0x2400 + c) for c in range(0x20)}
_REPLACE[0x09] = " "
_REPLACE[0x7F] = "\u2421"
for _c in (*range(0x80, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF):
    _REPLACE[_c] = "\ufffd"
_TRANSLATE = dict(_REPLACE)
del _c


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def display_text(text: str, limit: int = LABEL_LIMIT) -> str:
    """What a label shows for ``text``: controls made visible, at most ``limit`` characters.

    This is format-neutral: tests compare the text Graphviz draws against this value.
    """
    return shorten(str(text).translate(_TRANSLATE), limit)


def escape(text: str, limit: int = LABEL_LIMIT) -> str:
    """``text`` as the inside of a double-quoted DOT string label, drawn literally.

    Backslashes are doubled (so ``\\N``, ``\\G``, ``\\l``, ``\\n`` typed by a user stay text),
    quotes are backslash-escaped, and ``&`` becomes ``&amp;`` because Graphviz decodes HTML
    entities such as ``&#106;`` even in plain labels. Control characters are made visible and the
    result holds at most ``limit`` characters of the original text.
    """
    if text.__class__ is str and len(text) <= limit and text.isascii() and text.isprintable():
        shown = text  # display_text would give it back as it is (no control character, not cut)
    else:
        shown = display_text(text, limit)
    return shown.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")


# Mermaid decodes ``#name;`` and ``#123;`` entity codes inside labels, so ``#`` itself is encoded;
# a quote would end the label, ``<``/``>``/``&`` would be HTML, a backtick would start Markdown.
_MERMAID = {
    ord("#"): "#35;",
    ord('"'): "#quot;",
    ord("&"): "#amp;",
    ord("<"): "#lt;",
    ord(">"): "#gt;",
    ord("`"): "#96;",
}


def escape_mermaid(text: str, limit: int = LABEL_LIMIT) -> str:
    """``text`` as the inside of a double-quoted Mermaid label, drawn literally.

    Quotes, ``<``, ``>``, ``&``, ``#`` and backticks become Mermaid entity codes (``#quot;``,
    ``#lt;``, ``#35;`` ...), so nothing a user typed can end the label or become markup.
    """
    return display_text(text, limit).translate(_MERMAID)

"""Data values are text, never markup: escaping for Streamlit markdown and Plotly strings.

Names, organisation and school names, release ids, reasons, emails and every other value
that comes from an import, a form or the identity provider are shown as the literal text
they are (issue 10, item 11: a last name `[click](http://x) **bold**` must not become a
link in bold). Every place that puts a data value into a string Streamlit renders as
markdown (`st.markdown`, `st.caption`, `st.write`, `st.title`/`subheader`, alerts, widget
and radio-option labels, expander labels) wraps the value in `md`; every place that puts
one into a Plotly string (trace names, titles, hover text, annotations, tick labels)
wraps it in `plain_html`. Cells of `st.dataframe` and `st.text` are not interpreted and
need neither.
"""

from __future__ import annotations

import html
import re
import string
from typing import Any

#: CommonMark lets every ASCII punctuation character be backslash-escaped, and an escaped
#: character is always literal. Escaping all of them covers markdown itself (emphasis,
#: links, images, code, headings, lists, tables, HTML) and what Streamlit adds on top:
#: `:red[...]` directives, `:material/...:` icons, `:emoji:` shortcodes (the emoji
#: plugin is loaded only when the source holds `:name:`, which escaped colons break) and
#: `$...$` math, and GFM autolinks (`http\://` and `www\.` no longer start a link).
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")


def md(value: Any) -> str:
    """`value` as markdown that renders as exactly its text, on one line.

    Line breaks become spaces (a value never starts a heading, list or code block on a
    line of its own); every ASCII punctuation character is backslash-escaped.
    """
    text = _LINE_BREAKS.sub(" ", "" if value is None else str(value))
    return _PUNCTUATION.sub(r"\\\1", text)


def plain_html(value: Any) -> str:
    """`value` for a Plotly string, which interprets a subset of HTML (`<a href>`, `<b>`,
    `<br>`, `<span style>`...) and entities: `&`, `<` and `>` become entities Plotly
    decodes back to the characters, so a tag in the data shows as its text."""
    text = "" if value is None else str(value)
    return html.escape(text, quote=False)

"""`ui.text`: data values as literal text in Streamlit markdown and in Plotly strings."""

from __future__ import annotations

import string

from ui.text import md, plain_html


def test_md_escapes_every_ascii_punctuation_character() -> None:
    escaped = md(string.punctuation)
    assert escaped == "".join("\\" + c for c in string.punctuation)


def test_md_keeps_letters_digits_spaces_and_non_ascii_as_they_are() -> None:
    assert md("Zoë Núñez 12") == "Zoë Núñez 12"


def test_md_puts_a_value_on_one_line_so_it_cannot_start_a_block() -> None:
    assert md("Ana\n# Heading\r\n    code\n- item") == r"Ana \# Heading code \- item"


def test_md_of_nothing_is_empty() -> None:
    assert md(None) == ""


def test_plain_html_turns_tags_into_entities_plotly_decodes_back_to_text() -> None:
    assert plain_html('<a href="http://x">y</a> & <b>z</b>') == (
        '&lt;a href="http://x"&gt;y&lt;/a&gt; &amp; &lt;b&gt;z&lt;/b&gt;'
    )
    assert plain_html(None) == ""

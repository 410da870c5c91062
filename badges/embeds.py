"""Embed snippets for a badge, in the markup people paste into blogs and forums. Pure."""

from __future__ import annotations

from html import escape


def snippets(*, image: str, page: str, alt: str) -> dict[str, str]:
    """Every snippet links the image to the badge's proof page."""
    md_alt = alt.replace("[", "(").replace("]", ")")
    rst_alt = alt.replace("\n", " ")
    # Quoted, or a thousands comma ("#1,234") would split the alt into alt and width.
    # Asciidoctor ends the macro at the first "]" and unescapes \" inside quotes;
    # a backslash could escape the closing quote, so it becomes a slash.
    adoc_alt = alt.replace("]", ")").replace("\\", "/").replace('"', '\\"')
    return {
        "HTML": f'<a href="{escape(page)}"><img src="{escape(image)}" alt="{escape(alt)}"></a>',
        "Markdown": f"[![{md_alt}]({image})]({page})",
        "BBCode": f"[url={page}][img]{image}[/img][/url]",
        "reStructuredText": f".. image:: {image}\n   :alt: {rst_alt}\n   :target: {page}",
        "AsciiDoc": f'image:{image}["{adoc_alt}",link={page}]',
        "oEmbed URL": page,
    }

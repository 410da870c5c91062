"""The badge renderer: pure functions, no database."""

import importlib.util
import struct
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from badges import fontwidths, render
from badges.render import (
    COLORS,
    STYLES,
    badge_png,
    badge_svg,
    clean_text,
    not_found_svg,
    text_width,
)

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ROOT = Path(__file__).resolve().parents[2]

# Text no display name should be able to break: controls, bidi overrides,
# lone surrogates, private use, noncharacters, right-to-left scripts, emoji
# sequences, combining-mark "Zalgo", CJK, markup.
nasty_characters = st.characters(
    categories=["L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Cs", "Co", "Cn"]
)
display_text = st.one_of(
    st.text(),
    st.text(alphabet=nasty_characters, max_size=300),
    st.sampled_from(
        [
            "\u202eevil\u202c",
            "שלום עולם",
            "مرحبا بالعالم",
            "👩\u200d💻🏳️\u200d🌈👍🏽",
            "Z̷̛̖̪͓̈́͊a̸̢̰͛l̵̺̓g̶͉̈o̷̮͋",
            "早期採用者・山田太郎",
            "\ud800\udfff\ufffe\uffff",
            "</text><script>alert(1)</script>",
            "W" * 500,
        ]
    ),
)


def parse(svg: str) -> ET.Element:
    # Encoding first also proves there is no lone surrogate left in the output.
    return ET.fromstring(svg.encode("utf-8"))


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def shown_texts(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter(f"{SVG}text") if el.get("aria-hidden") != "true"]


def background_rects(root: ET.Element) -> list[ET.Element]:
    group = next(g for g in root.iter(f"{SVG}g") if g.find(f"{SVG}rect") is not None)
    return [
        rect for rect in group.findall(f"{SVG}rect") if not rect.get("fill", "").startswith("url")
    ]


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def visible_units(text: str) -> int:
    # A character with its combining marks, or emoji joined by ZWJ, counts once.
    return sum(
        1
        for i, ch in enumerate(text)
        if unicodedata.category(ch)[0] != "M" and ch != "\u200d" and text[i - 1 : i] != "\u200d"
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    label=display_text,
    value=display_text,
    title=st.none() | display_text,
    style=st.sampled_from(STYLES),
    scale=st.sampled_from((1, 2)),
)
def test_any_text_makes_a_well_formed_badge_that_rasterizes(label, value, title, style, scale):
    svg = badge_svg(label=label, value=value, title=title, style=style)

    root = parse(svg)
    assert local(root.tag) == "svg"
    assert root.get("role") == "img"
    assert root.get("aria-label")
    assert root.find(f"{SVG}title") is not None
    for element in root.iter():
        assert local(element.tag) not in {"script", "foreignObject", "style", "image", "use"}
        assert not any(local(name).lower().startswith("on") for name in element.attrib)
    assert "<script" not in svg.lower()

    width, height = png_size(badge_png(svg, scale=scale))
    assert width == int(root.get("width")) * scale
    assert height == int(root.get("height")) * scale


@settings(max_examples=200, deadline=None)
@given(text=display_text, max_chars=st.integers(min_value=1, max_value=60))
def test_clean_text_leaves_one_tidy_printable_line(text, max_chars):
    cleaned = clean_text(text, max_chars)

    for ch in cleaned:
        category = unicodedata.category(ch)
        assert category not in ("Cc", "Cs", "Co")
        assert category != "Cf" or ch == "\u200d"
        assert ord(ch) not in (0xFFFE, 0xFFFF)
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned
    assert visible_units(cleaned) <= max_chars


# Latin text takes clean_text's fast path: it must give what the general path gives.
latin_text = st.text(
    alphabet=st.characters(
        codec=None,
        categories=None,
        include_characters="\t\n\r",
        min_codepoint=0x20,
        max_codepoint=0x2FF,
        exclude_characters="\x7f\xad" + "".join(map(chr, range(0x80, 0xA0))),
    ),
    max_size=80,
)


@settings(max_examples=500)
@given(text=latin_text, max_chars=st.integers(min_value=1, max_value=60))
@example(text="Ada Lovelace", max_chars=5)  # cut just after a space
@example(text="  Ada\n\t Lovelace\u00a0 ", max_chars=40)  # every kind of space
@example(text="Zo\u00eb Ba\u00f1o", max_chars=4)
def test_clean_texts_fast_path_for_latin_text_gives_what_the_general_path_gives(text, max_chars):
    assert render._PLAIN.fullmatch(text)
    assert clean_text(text, max_chars) == render._clean_any(text, max_chars)


def test_clean_text_removes_bidi_overrides_and_zero_width_characters():
    assert clean_text("ad\u202enimda\u202c") == "adnimda"
    assert clean_text("a\u200bb\u2066c\u2069\ufeff") == "abc"


def test_clean_text_replaces_lone_surrogates_and_noncharacters():
    assert clean_text("a\ud800b\uffff") == "a\ufffdb\ufffd"


def test_clean_text_collapses_whitespace_and_newlines():
    assert clean_text("  Early\t\n adopter \u3000 #42\r\n") == "Early adopter #42"


def test_clean_text_cuts_long_text_with_an_ellipsis():
    assert clean_text("abcdefghij", max_chars=5) == "abcd…"
    assert clean_text("abcde", max_chars=5) == "abcde"
    assert clean_text("abc  defgh", max_chars=5) == "abc…"


def test_clean_text_counts_a_letter_with_its_accents_once():
    decomposed = "e\u0301" * 5
    assert clean_text(decomposed, max_chars=5) == "é" * 5


def test_clean_text_keeps_emoji_sequences_but_caps_stacked_accents():
    assert clean_text("👩\u200d💻 dev") == "👩\u200d💻 dev"
    assert clean_text("a\u200db") == "ab"
    assert clean_text("o" + "\u0336" * 20) == "o" + "\u0336" * 3


def test_a_script_tag_as_label_renders_as_text():
    svg = badge_svg(label="</text><script>alert(1)</script>", value="#1")

    root = parse(svg)
    assert "&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert not any(local(el.tag) == "script" for el in root.iter())
    assert "</text><script>alert(1)</script>" in shown_texts(root)
    assert root.get("aria-label") == "</text><script>alert(1)</script>: #1"


def test_quotes_in_text_are_escaped_in_attributes():
    svg = badge_svg(label='a" onmouseover="x', value="it's <b>")

    root = parse(svg)
    assert root.get("aria-label") == 'a" onmouseover="x: it\'s <b>'
    assert not any(name.startswith("on") for el in root.iter() for name in el.attrib)


def test_a_longer_string_is_never_narrower():
    assert text_width("Early adopters") > text_width("Early adopter")
    assert text_width("abc", bold=True) >= text_width("ab", bold=True)


def test_w_is_wider_than_i():
    assert text_width("W") > text_width("i")


def test_text_width_matches_the_advances_measured_with_fonttools():
    # Sums of hmtx advances read once with fontTools from DejaVu Sans 2.37.
    assert text_width("Early adopter") == pytest.approx(74.314453125, abs=0.01)
    assert text_width("Connector") == pytest.approx(56.73486328125, abs=0.01)
    assert text_width("Ωμέγα Привет") == pytest.approx(80.66845703125, abs=0.01)
    assert text_width("Early adopter", size=10, bold=True) == pytest.approx(76.3671875, abs=0.01)
    assert text_width("#42", bold=True) == pytest.approx(24.5244140625, abs=0.01)


def test_cjk_text_gets_one_em_per_character():
    assert text_width("早期採用者", size=11) == 55
    assert text_width("\uff21\uff22", size=10) == 20  # fullwidth A and B


def test_characters_the_font_lacks_are_counted_wide():
    # U+10000 (Linear B) is not in DejaVu Sans: counted as wide as "M".
    assert text_width("\U00010000") == text_width("M")


def test_the_badge_is_as_wide_as_its_two_parts():
    root = parse(badge_svg(label="Early adopter", value="#42"))

    label_rect, value_rect = background_rects(root)
    assert int(root.get("width")) == int(label_rect.get("width")) + int(value_rect.get("width"))
    assert value_rect.get("x") == label_rect.get("width")
    assert root.get("viewBox") == f"0 0 {root.get('width')} 20"


def test_text_length_is_the_measured_width():
    root = parse(badge_svg(label="Early adopter", value="#42"))

    lengths = [float(el.get("textLength")) / 10 for el in root.iter(f"{SVG}text")]
    assert lengths == pytest.approx([74.31, 74.31, 23.21, 23.21], abs=0.01)


def test_each_text_is_centred_in_its_part():
    root = parse(badge_svg(label="Early adopter", value="#42", style="flat-square"))

    label_rect, value_rect = background_rects(root)
    label_text, value_text = root.iter(f"{SVG}text")
    assert float(label_text.get("x")) / 10 == int(label_rect.get("width")) / 2
    assert (
        float(value_text.get("x")) / 10
        == int(value_rect.get("x")) + int(value_rect.get("width")) / 2
    )


def test_text_is_in_the_font_stack_we_measured():
    svg = badge_svg(label="a", value="b")

    assert 'font-family="DejaVu Sans,Verdana,Geneva,sans-serif"' in svg


def test_flat_badges_have_rounded_corners_a_gradient_and_a_text_shadow():
    root = parse(badge_svg(label="Early adopter", value="#42"))

    assert root.get("height") == "20"
    assert root.find(f"{SVG}clipPath/{SVG}rect").get("rx") == "3"
    assert root.find(f"{SVG}linearGradient") is not None
    shadows = [el for el in root.iter(f"{SVG}text") if el.get("aria-hidden") == "true"]
    assert [el.text for el in shadows] == ["Early adopter", "#42"]


def test_flat_square_badges_are_square():
    root = parse(badge_svg(label="Early adopter", value="#42", style="flat-square"))

    assert root.get("height") == "20"
    assert root.find(f"{SVG}clipPath") is None
    assert not any(el.get("rx") for el in root.iter())


def test_for_the_badge_is_uppercase_bold_and_28_px_high():
    root = parse(badge_svg(label="Early adopter", value="#42 café", style="for-the-badge"))

    assert root.get("height") == "28"
    assert shown_texts(root) == ["EARLY ADOPTER", "#42 CAFÉ"]
    assert any(g.get("font-weight") == "bold" for g in root.iter(f"{SVG}g"))
    # Screen readers get the words, not shouting.
    assert root.get("aria-label") == "Early adopter: #42 café"


def test_unknown_style_and_colour_fall_back_to_the_defaults():
    default = badge_svg(label="Early adopter", value="#42")

    assert badge_svg(label="Early adopter", value="#42", style="plastic", color="nope") == default
    assert f'fill="{COLORS["blue"]}"' in default


def test_named_colours_come_from_the_allow_list():
    svg = badge_svg(label="tier", value="gold", color="gold", label_color="purple")

    assert f'fill="{COLORS["gold"]}"' in svg
    assert f'fill="{COLORS["purple"]}"' in svg


def test_a_colour_is_never_echoed():
    svg = badge_svg(label="a", value="b", color='red" onload="x', label_color="#f00")

    assert "onload" not in svg
    assert "#f00" not in svg
    assert f'fill="{COLORS["blue"]}"' in svg
    assert f'fill="{COLORS["grey"]}"' in svg


def test_light_colours_get_dark_text():
    root = parse(badge_svg(label="a", value="b", color="lightgrey", label_color="grey"))

    assert [
        el.get("fill") for el in root.iter(f"{SVG}text") if el.get("aria-hidden") != "true"
    ] == [
        "#fff",
        "#fff",
    ]
    root = parse(badge_svg(label="a", value="b", color="black", label_color="grey"))
    assert {el.get("fill") for el in root.iter(f"{SVG}text")} <= {"#fff", "#010101"}


def test_title_defaults_to_label_and_value_and_can_be_given():
    assert parse(badge_svg(label="Early adopter", value="#42")).find(f"{SVG}title").text == (
        "Early adopter: #42"
    )
    titled = parse(badge_svg(label="a", value="b", title="Alice\u202e: Early adopter · #42"))
    assert titled.find(f"{SVG}title").text == "Alice: Early adopter · #42"


def test_a_javascript_link_is_dropped():
    for link in ("javascript:alert(1)", "JavaScript://%0aalert(1)", "//evil.example/", "/u/alice/"):
        svg = badge_svg(label="a", value="b", link=link)
        assert parse(svg).find(f"{SVG}a") is None
        assert "alert" not in svg and "evil" not in svg


def test_an_https_link_is_escaped_inside_xlink_href():
    link = 'https://passalong.example/badges/alice/early-adopter/?a=1&b="2"'
    svg = badge_svg(label="a", value="b", link=link)

    anchor = parse(svg).find(f"{SVG}a")
    assert anchor.get(XLINK_HREF) == link
    assert anchor.get("target") == "_blank"
    assert "?a=1&amp;b=&quot;2&quot;" in svg


def test_the_same_input_gives_the_same_svg():
    first = badge_svg(label="Early adopter", value="#42", color="gold", style="for-the-badge")
    second = badge_svg(label="Early adopter", value="#42", color="gold", style="for-the-badge")

    assert first == second


def test_not_found_is_a_well_formed_grey_badge_in_every_style():
    for style in STYLES:
        root = parse(not_found_svg(style=style))
        assert root.get("aria-label") == "badge: not found"
        assert root.find(f"{SVG}title").text == "badge: not found"
        assert f'fill="{COLORS["lightgrey"]}"' in not_found_svg(style=style)


def test_png_is_drawn_at_one_or_two_times_the_svg_size():
    svg = badge_svg(label="Early adopter", value="#42")
    width = int(parse(svg).get("width"))

    assert png_size(badge_png(svg)) == (width, 20)
    assert png_size(badge_png(svg, scale=2)) == (width * 2, 40)


def test_png_scale_3_is_refused():
    with pytest.raises(ValueError):
        badge_png(not_found_svg(), scale=3)


def test_the_width_table_was_generated_from_the_vendored_fonts():
    pytest.importorskip("fontTools")
    spec = importlib.util.spec_from_file_location(
        "make_fontwidths", ROOT / "tools/make_fontwidths.py"
    )
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)

    assert generator.main(["--check"]) == 0
    assert fontwidths.UNITS_PER_EM == 2048

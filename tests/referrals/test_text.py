"""referrals.text.plain_text: what people write, without what would change how it reads."""

import pytest

from accounts.models import User
from badges.models import BadgeSetting
from referrals.models import Campaign
from referrals.text import plain_text

RLO = "\u202e"  # right-to-left override: flips everything after it


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        (f"Beta{RLO} launch", "Beta launch"),
        ("\u2066Isolated\u2069 \u200bzero\u200bwidth", "Isolated zerowidth"),
        ("Ada 👩\u200d💻", "Ada 👩\u200d💻"),  # a joined emoji stays joined
        ("👨\u200d👩\u200d👧 family", "👨\u200d👩\u200d👧 family"),
        ("🏳️\u200d🌈", "🏳️\u200d🌈"),  # after a variation selector too
        ("a\u200db", "ab"),  # a joiner between letters joins nothing
        ("trailing 👩\u200d", "trailing 👩"),
        ("tab\there\nline", "tab here line"),
        ("  spaced  ", "spaced"),
        ("\x00nul\x1bescape", "nulescape"),
    ],
)
def test_one_line_of_text_loses_what_would_change_how_it_reads(written, kept):
    assert plain_text(written) == kept


def test_text_of_several_lines_keeps_its_line_breaks_only():
    assert plain_text(f"one\r\ntwo{RLO}\rthree", multiline=True) == "one\ntwo\nthree"


@pytest.mark.parametrize(
    ("model", "field"),
    [
        (Campaign, "name"),
        (Campaign, "pitch"),
        (BadgeSetting, "name"),
        (BadgeSetting, "description"),
        (User, "display_name"),
    ],
)
def test_every_form_of_the_field_cleans_it_the_admin_included(model, field):
    # The admin and every ModelForm build their field from the model's formfield().
    form_field = model._meta.get_field(field).formfield()
    assert form_field.clean(f"Beta{RLO} 👩\u200d💻") == "Beta 👩\u200d💻"

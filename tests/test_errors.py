"""One-line messages: names with control characters are shown escaped."""

import os
import unicodedata

from astrovader.errors import printable


def test_printable_escapes_every_control_character_and_nothing_else():
    name = "a\nb\r\tc\x1b[31m\x7f\x9b\u202egnp.fits é 銀河"
    assert printable(name) == "a\\nb\\r\\tc\\x1b[31m\\x7f\\x9b\\u202egnp.fits é 銀河"
    undecodable = os.fsdecode(b"bad\xffname")  # a non-UTF-8 file name
    assert printable(undecodable) == "bad\\xffname"
    shown = printable("".join(map(chr, range(0x100))))
    assert not [c for c in shown if unicodedata.category(c) == "Cc"]

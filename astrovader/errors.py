"""The project's own error type: what a user did wrong, said in one line."""

from __future__ import annotations


class AstrovaderError(Exception):
    """A problem with the user's input, reported in one line with exit status 2.

    The message names the culprit (a file, a config key, a value) so that the
    command line can print it without a traceback.
    """


class ConfigError(AstrovaderError):
    """An unknown key, a wrong type or an impossible value in a configuration."""


class RunExistsError(AstrovaderError):
    """The output directory already holds a run (resume it, or overwrite it)."""


class InputError(AstrovaderError):
    """An image, array or directory that cannot be read as galaxy cutouts."""


class AstrovaderWarning(UserWarning):
    """Something the user should know about a run (a collapsed embedding, a skipped file).

    Library code warns with this category; the command line prints each one as
    ``astrovader COMMAND: warning: …`` and the report lists them.
    """


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escaped(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a non-UTF-8 file name (surrogate escape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    r"""``text`` safe to show on a terminal as one line.

    Control characters (newlines, ``ESC`` of terminal escape sequences, ``DEL``, C1
    codes), bidirectional overrides and the undecodable bytes of a non-UTF-8 file
    name are written escaped (``\n``, ``\x1b``, ``\u202e``, ``\xff``), so that a
    file name can neither split a message nor restyle, clear or forge output.
    """
    return "".join(
        _escaped(c)
        if c in _NAMED
        or c in _BIDI
        or ord(c) < 0x20
        or 0x7F <= ord(c) < 0xA0
        or 0xD800 <= ord(c) <= 0xDFFF
        else c
        for c in text
    )

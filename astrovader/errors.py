"""The project's own errors (what a user did wrong, said in one line) and warning."""

from __future__ import annotations

import contextlib
import warnings

__all__ = [
    "AstrovaderError",
    "AstrovaderWarning",
    "CollapseError",
    "ConfigError",
    "InputError",
    "RunExistsError",
    "only_own_warnings",
    "printable",
    "warn",
]


class AstrovaderError(Exception):
    """A problem with the user's input, reported in one line with exit status 2.

    The message names the culprit (a file, a config key, a value) so that the
    command line can print it without a traceback.
    """


class ConfigError(AstrovaderError, ValueError):
    """An unknown key, a wrong type or an impossible value in a configuration.

    Also a ``ValueError`` (as scikit-learn's ``NotFittedError`` is), so that code
    catching the built-in type catches it too.
    """


class RunExistsError(AstrovaderError):
    """The output directory already holds a run (resume it, or overwrite it)."""


class InputError(AstrovaderError, ValueError):
    """An image, array or folder that cannot be read as galaxy cutouts (also a ``ValueError``)."""


class CollapseError(AstrovaderError):
    """The embedding collapsed before the GMM initialisation (``fit --force`` goes on)."""


class AstrovaderWarning(UserWarning):
    """Something the user should know about a run (a collapsed embedding, a skipped file).

    Library code warns with this category; the command line prints each one as
    ``astrovader COMMAND: warning: …`` and the report lists them. A script
    silences them with ``warnings.simplefilter("ignore", AstrovaderWarning)`` or
    turns them into errors with ``"error"``.
    """


def warn(message: str) -> None:
    """Warn the library's user with an :class:`AstrovaderWarning` (filterable by category)."""
    warnings.warn(message, AstrovaderWarning, stacklevel=3)


@contextlib.contextmanager
def only_own_warnings():
    """Other libraries' warnings silenced in the block; the library's own kept.

    An :class:`AstrovaderWarning` raised in the block is issued again as it ends,
    under the caller's filters (a script's ``"ignore"`` or ``"error"``, the
    command line's printing).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore")
        warnings.simplefilter("always", AstrovaderWarning)
        yield
    for found in caught:
        warnings.warn_explicit(found.message, found.category, found.filename, found.lineno)


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

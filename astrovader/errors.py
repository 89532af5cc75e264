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

"""Errors a user can act on.

Every failure that comes from bad input (a file, a model, a device) is raised as a
``MinutesError`` whose message says what is wrong and what to do. The CLI prints the
message on one line and exits with status 2; the GUI shows it in a dialog. A cancel is
``Cancelled``, which is not an error. Anything else is a bug and keeps its traceback.
"""


class MinutesError(Exception):
    """Base class: the message is meant for the user, on one line."""


class AudioError(MinutesError):
    """The input file cannot be read as audio (missing, empty, not audio, corrupt)."""


class ModelError(MinutesError):
    """The model is missing, corrupt, or of a kind this app cannot load."""


class DeviceError(MinutesError):
    """The requested compute device or precision is not available."""


class Cancelled(Exception):
    """The user cancelled the job: not a failure, so deliberately not a ``MinutesError``.

    Error paths (``except MinutesError``: a one-line message, an error row, exit status 2) let it
    through; whoever asked for the cancel catches it (the CLI exits with 130, the window shows
    the job as cancelled)."""

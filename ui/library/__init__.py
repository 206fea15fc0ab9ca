"""The Library view: meetings on disk (engine/library.py), newest first, and search across them."""

from ui.library.model import HitListModel, MeetingListModel
from ui.library.view import LibraryView

__all__ = ["HitListModel", "LibraryView", "MeetingListModel"]

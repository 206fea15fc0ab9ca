"""The Training view. The fine-tune wizard over `minutes train` fills it once the training
pipeline lands; until then it says so plainly, and what to do meanwhile."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class TrainingView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        note = QLabel(self)
        note.setWordWrap(True)
        note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        note.setText(
            self.tr(
                "<h3>Teach Minutes your vocabulary</h3>"
                "<p>Fine-tuning the recognizer on your own recordings is not part of this version yet.</p>"
                "<p>Meanwhile, correct names and terms in the transcript editor: corrected meetings are"
                " what the fine-tune wizard will train on, and the <b>Hotwords</b> option (Files, Settings)"
                " already steers the spelling of names.</p>"
            )
        )
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(note)
        layout.addStretch(2)

"""Training, step 5: before and after. Dev WER, term recall and the general-set WER (forgetting),
from the run's two "result" events, and the terms one by one."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHeaderView, QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


class EvaluatePage(QWidget):
    play_requested = Signal(str)  # an utterance's audio file

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scores: dict[str, dict] = {}
        self.note = QLabel(self.tr("The scores appear here when a run has scored the model before and after."), self)
        self.note.setWordWrap(True)
        self.table = QTableWidget(3, 3, self)
        self.table.setHorizontalHeaderLabels([self.tr("Measure"), self.tr("Before"), self.tr("After")])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.terms = QTableWidget(0, 3, self)
        self.terms.setHorizontalHeaderLabels([self.tr("Term"), self.tr("Found before"), self.tr("Found after")])
        self.terms.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.terms.verticalHeader().hide()
        self.terms.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.table)
        layout.addWidget(QLabel(self.tr("Terms to watch:"), self))
        layout.addWidget(self.terms)
        worst = self.tr("Worst utterances after training (struck: missed, underlined: inserted):")
        layout.addWidget(QLabel(worst, self))
        self.worst = QTableWidget(0, 3, self)
        self.worst.setHorizontalHeaderLabels([self.tr("Errors"), self.tr("Words (diff against the reference)"), ""])
        self.worst.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.worst.verticalHeader().hide()
        self.worst.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(self.worst, 1)
        self._fill()

    def clear(self) -> None:
        self.scores = {}
        self._fill()

    def set_result(self, which: str, data: dict) -> None:
        """``which`` is "before" or "after"; ``data`` is the result event's scores."""
        self.scores[which] = data or {}
        self._fill()

    @staticmethod
    def _fit(table: QTableWidget) -> None:
        """As tall as its rows: the three measures are never behind a scroll bar."""
        table.resizeRowsToContents()
        rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
        table.setFixedHeight(table.horizontalHeader().sizeHint().height() + rows + 2 * table.frameWidth() + 2)

    def _value(self, which: str, *keys: str):
        d = self.scores.get(which, {})
        for k in keys:
            d = d.get(k) if isinstance(d, dict) else None
        return d

    def _fill(self) -> None:
        rows = [
            (self.tr("Dev WER (lower is better)"), ("dev", "rate")),
            (self.tr("Term recall (higher is better)"), ("dev", "term_recall")),
            (self.tr("General-set WER (forgetting)"), ("general", "rate")),
        ]
        for r, (label, keys) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(label))
            self.table.setItem(r, 1, QTableWidgetItem(_pct(self._value("before", *keys))))
            self.table.setItem(r, 2, QTableWidgetItem(_pct(self._value("after", *keys))))
        self._fit(self.table)
        before = {t.get("term"): t for t in (self._value("before", "dev", "terms") or [])}
        after = {t.get("term"): t for t in (self._value("after", "dev", "terms") or [])}
        names = list(dict.fromkeys([*before, *after]))
        self.terms.setRowCount(len(names))
        for r, name in enumerate(names):

            def cell(t):
                if not t:
                    return "–"
                if not t.get("expected"):
                    return self.tr("not in the dev set")
                return f"{t.get('found', 0)}/{t.get('expected', 0)}"

            for c, v in enumerate((str(name), cell(before.get(name)), cell(after.get(name)))):
                self.terms.setItem(r, c, QTableWidgetItem(v))
        per = self._value("after", "dev", "per_utterance") or self._value("before", "dev", "per_utterance") or []
        worst = sorted(per, key=lambda u: -u.get("errors", 0))[:10]
        for r in range(self.worst.rowCount()):
            for c in (1, 2):
                self.worst.removeCellWidget(r, c)
        self.worst.setRowCount(0)
        self.worst.setRowCount(len(worst))
        for r, u in enumerate(worst):
            self.worst.setItem(r, 0, QTableWidgetItem(str(u.get("errors", 0))))
            label = QLabel(diff_html(u.get("ops") or []) or u.get("hypothesis", ""))
            label.setTextFormat(Qt.TextFormat.RichText)
            self.worst.setCellWidget(r, 1, label)
            play = QPushButton(self.tr("Play"))
            audio = u.get("audio") or ""
            play.clicked.connect(lambda _=False, a=audio: self.play_requested.emit(a))
            self.worst.setCellWidget(r, 2, play)
        self.worst.resizeRowsToContents()
        if self.scores:
            text = self.tr("Scores of the packaged model (before) and the fine-tuned one (after), on the dev set.")
            self.note.setText(text)


def diff_html(ops: list) -> str:
    """Word diff as HTML: deletions struck in red, insertions green, substitutions both."""
    from html import escape

    out = []

    def words(x) -> str:
        return escape(" ".join(x) if isinstance(x, list) else (x or ""))

    for kind, ref, hyp in ops:
        ref, hyp = words(ref), words(hyp)
        if kind == "equal":
            out.append(ref)
        elif kind == "delete":
            out.append(f'<s style="color:#c62828">{ref}</s>')
        elif kind == "insert":
            out.append(f'<u style="color:#2e7d32">{hyp}</u>')
        else:
            out.append(f'<s style="color:#c62828">{ref}</s> <u style="color:#2e7d32">{hyp}</u>')
    return " ".join(out)

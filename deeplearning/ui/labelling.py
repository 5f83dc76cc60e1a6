"""The digits of the latest reading and the labels the user gave them: which digit is
selected, which ones are saved, and the number as corrected.

A digit is known by its box, which is the same whatever model reads the canvas, so a
re-reading of the same canvas (after switching models) keeps the labels. A changed canvas
forgets them: they belonged to other ink.
"""


class Reading:
    def __init__(self):
        self.digits = []  # what the model read last, left to right
        self.labels = {}  # box -> the label saved for that digit
        self.selected = None  # the selected digit's box, or None

    def show(self, digits):
        """Take a new reading. A lone digit is selected without a click."""
        self.digits = list(digits)
        boxes = {digit.box for digit in self.digits}
        self.labels = {box: label for box, label in self.labels.items() if box in boxes}
        if self.selected not in boxes:
            self.selected = None
        if self.selected is None and len(self.digits) == 1:
            self.selected = self.digits[0].box

    def forget(self):
        """The canvas changed: no label or selection holds any more."""
        self.labels = {}
        self.selected = None

    @property
    def selected_index(self):
        for index, digit in enumerate(self.digits):
            if digit.box == self.selected:
                return index
        return None

    def select(self, index):
        self.selected = self.digits[index].box

    def step(self, direction=1):
        """Move the selection to the next digit (direction 1) or the one before (-1), round."""
        if not self.digits:
            return
        index = self.selected_index
        if index is None:
            index = 0 if direction > 0 else len(self.digits) - 1
        else:
            index = (index + direction) % len(self.digits)
        self.select(index)

    def label_of(self, digit):
        """The label saved for a digit, or None."""
        return self.labels.get(digit.box)

    def unlabelled(self):
        return [digit for digit in self.digits if digit.box not in self.labels]

    def mark(self, digit, label):
        self.labels[digit.box] = int(label)

    def select_next_unlabelled(self):
        """After a label: on to the next digit still without one (round), if any is left."""
        start = self.selected_index
        start = -1 if start is None else start
        count = len(self.digits)
        for offset in range(1, count + 1):
            index = (start + offset) % count
            if self.digits[index].box not in self.labels:
                self.select(index)
                return

    def text(self):
        """The number as read, with the user's labels in place of the model's."""
        return "".join(str(self.labels.get(digit.box, digit.label)) for digit in self.digits)

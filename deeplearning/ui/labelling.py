"""The digits the user labels: the latest reading of the canvas, which digit is selected,
the labels given, and saving labelled digits with their strokes into the personal sample set.

A digit is known by its box, which is the same whatever model reads the canvas, so a
re-reading of the same canvas (after switching models) keeps the labels. A changed canvas
forgets them: they belonged to other ink.
"""

from pathlib import Path

import numpy as np

from deeplearning.core import cli
from deeplearning.core.errors import InputError
from deeplearning.personal.samples import Sample, SampleSet, digit_strokes
from deeplearning.reading.pen import CANVAS_SIZE, PEN_RADIUS
from deeplearning.ui.colours import ORANGE, PURPLE
from deeplearning.ui.report import Outcome, sample_record

STILL_READING = "Still reading the canvas: try again in a moment."


class Reading:
    """The latest reading of the canvas and the labels given to its digits."""

    def __init__(self):
        self.seen = np.full(CANVAS_SIZE[::-1], 255, np.uint8)  # the canvas as the model saw it
        self.version = 0  # which state of the canvas that was
        self.digits = []  # what the model read in it, left to right
        self.unread = None  # why it was not read (too many marks), if it was not
        self.labels = {}  # box -> the label saved for that digit
        self.selected = None  # the selected digit's box, or None

    def show(self, job, digits, unread=None):
        """Take a new reading: of the canvas `job` sent, `digits` read in it or `unread` why
        not. Labels given to other ink go; a lone digit is selected without a click."""
        if job.version != self.version:
            self.forget()
        self.seen, self.version, self.unread = job.array, job.version, unread
        self.digits = list(digits)
        boxes = {digit.box for digit in self.digits}
        self.labels = {box: label for box, label in self.labels.items() if box in boxes}
        if self.selected not in boxes:
            self.selected = None
        if self.selected is None and len(self.digits) == 1:
            self.selected = self.digits[0].box

    def forget(self):
        """The ink changed: no label or selection holds any more. Whether any did."""
        held = bool(self.labels) or self.selected is not None
        self.labels = {}
        self.selected = None
        return held

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


class Labeller:
    """The Reading on show and the sample set its labelled digits go to. Each action gives
    an Outcome for the app to pass on, or None when there was nothing to do."""

    def __init__(self, folder):
        # Absolute: the teach command runs in the project folder, not in this one.
        self.samples = SampleSet(Path(folder).absolute())
        self.counts = self.samples.counts()  # samples per digit, for the panel
        self.reading = Reading()

    def recount(self):
        """Count the samples again (another app may have added some): how many there are."""
        self.counts = self.samples.counts()
        return int(self.counts.sum())

    def label_selected(self, label, canvas):
        """A digit key: save the selected digit as `label`."""
        if not self.is_current(canvas):
            return Outcome(STILL_READING)
        index = self.reading.selected_index
        if index is None and not self.reading.digits:
            return None
        if index is None:
            return Outcome("Select a digit first: click it, or press Tab.")
        digit = self.reading.digits[index]
        saved = self.reading.label_of(digit)
        if saved is not None:
            return Outcome(f"This digit is saved already, as a {saved}.")
        return self.save([(digit, label)], canvas.strokes)

    def confirm(self, canvas):
        """Enter: the reading is right; save every digit not saved yet as it was read."""
        if not self.is_current(canvas):
            return Outcome(STILL_READING)
        if not self.reading.digits:
            return None
        todo = [(digit, digit.label) for digit in self.reading.unlabelled()]
        if not todo:
            return Outcome("Every digit here is saved already.")
        return self.save(todo, canvas.strokes)

    def is_current(self, canvas):
        """The digits on show are those of the canvas as it is: no reading is under way."""
        return self.reading.version == canvas.version and not canvas.unsent

    def save(self, labelled, strokes):
        """Append (digit, label) pairs to the sample set, each with its own of `strokes`."""
        digits = self.reading.digits
        owned = digit_strokes(strokes, [digit.box for digit in digits], margin=PEN_RADIUS)
        strokes_of = {digit.box: own for digit, own in zip(digits, owned, strict=True)}
        # A digit none of whose strokes lie mostly in its box cannot be drawn again: not saved.
        labelled = [(digit, label) for digit, label in labelled if strokes_of[digit.box]]
        if not labelled:
            return Outcome("Could not tell which strokes make up this digit: not saved.", ORANGE)
        samples = [Sample(label, digit.image, strokes_of[digit.box]) for digit, label in labelled]
        try:
            self.samples.append(samples)
        except OSError as error:
            reason = cli.describe_os_error(error)
            message = f"Could not save the sample: {reason}"
            return Outcome(message, ORANGE, error=f"could not save the sample: {reason}")
        for digit, label in labelled:
            self.reading.mark(digit, label)
        total = self.recount()
        first = total - len(labelled) + 1
        records = tuple(
            sample_record(label, digit.label, number)
            for number, (digit, label) in enumerate(labelled, start=first)
        )
        self.reading.select_next_unlabelled()
        if len(labelled) == 1:
            digit, label = labelled[0]
            read_as = "" if label == digit.label else f" (read as {digit.label})"
            message = f"Saved a {label}{read_as}. {total} samples: press T to teach."
        else:
            message = f"Saved {len(labelled)} digits. {total} samples: press T to teach."
        return Outcome(message, PURPLE, records=records)


def check_samples_folder(path):
    """A folder, or a path where one can be made: nothing on the way is a file."""
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise InputError(f"{part}: not a folder (--samples {path})")
            return

"""The digits the user labels: the latest reading of the canvas, which digit is selected,
the labels given, and saving labelled digits with their strokes into the personal sample set,
correcting or removing them there.

A digit is known by its box, which is the same whatever model reads the canvas, so a
re-reading of the same canvas (after switching models) keeps the labels. A changed canvas
forgets them: they belonged to other ink. The selection stays where the user put it: only a
click, Tab or a new reading moves it.
"""

import contextlib
from pathlib import Path

import numpy as np

from deeplearning.core import cli
from deeplearning.core.errors import InputError, shown
from deeplearning.personal.progress import MIN_SAMPLES
from deeplearning.personal.samples import Sample, SampleSet, how_many
from deeplearning.reading.images import NUM_CLASSES
from deeplearning.reading.pen import CANVAS_SIZE, PEN_RADIUS
from deeplearning.reading.strokes import digit_strokes
from deeplearning.ui.colours import ORANGE, PURPLE
from deeplearning.ui.report import Outcome, relabel_record, remove_record, sample_record

STILL_READING = "Still reading the canvas: try again in a moment."


class Reading:
    """The latest reading of the canvas and the labels given to its digits."""

    def __init__(self):
        self.seen = np.full(CANVAS_SIZE[::-1], 255, np.uint8)  # the canvas as the model saw it
        self.version = 0  # which state of the canvas that was
        self.digits = []  # what the model read in it, left to right
        self.unread = None  # why it was not read (too many marks), if it was not
        self.labels = {}  # box -> the label saved for that digit
        self.ids = {}  # box -> the id of its sample in the sample set
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
        self.ids = {box: sample_id for box, sample_id in self.ids.items() if box in boxes}
        if self.selected not in boxes:
            self.selected = None
        if self.selected is None and len(self.digits) == 1:
            self.selected = self.digits[0].box

    def forget(self):
        """The ink changed: no label or selection holds any more. Whether any did."""
        held = bool(self.labels) or self.selected is not None
        self.labels = {}
        self.ids = {}
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

    def mark(self, digit, label, sample_id):
        """The digit is saved as `label`, as the sample `sample_id`."""
        self.labels[digit.box] = int(label)
        self.ids[digit.box] = sample_id

    def unmark(self, digit):
        """Its sample is removed: the digit is as the model read it again."""
        del self.labels[digit.box]
        del self.ids[digit.box]

    def text(self):
        """The number as read, with the user's labels in place of the model's."""
        return "".join(str(self.labels.get(digit.box, digit.label)) for digit in self.digits)


class Labeller:
    """The Reading on show and the sample set its labelled digits go to. Each action gives
    an Outcome for the app to pass on, or None when there was nothing to do."""

    def __init__(self, folder):
        # Absolute: the teach command runs in the project folder, not in this one.
        self.samples = SampleSet(Path(folder).absolute())
        self.counts = np.zeros(NUM_CLASSES, int)  # samples per digit, for the panel
        with contextlib.suppress(InputError, OSError):  # a damaged set: saving says why
            self.recount()
        self.reading = Reading()

    def recount(self):
        """Count the samples again (another app may have changed them): how many there are.
        Raises InputError or OSError for a set that cannot be read."""
        self.counts = self.samples.counts()
        return int(self.counts.sum())

    def label_selected(self, label, canvas):
        """A digit key: save the selected digit as `label`, or correct its saved sample."""
        digit, refusal = self.selected(canvas)
        if digit is None:
            return refusal
        saved = self.reading.label_of(digit)
        if saved is None:
            return self.save([(digit, label)], canvas.strokes)
        if saved == label:
            return Outcome(
                f"Saved already as a {label}: another digit key corrects it, Delete removes it."
            )
        return self.relabel(digit, label)

    def remove_selected(self, canvas):
        """Delete or Backspace: remove the selected digit's sample from the sample set."""
        digit, refusal = self.selected(canvas)
        if digit is None:
            return refusal
        saved = self.reading.label_of(digit)
        if saved is None:
            return Outcome("This digit is not saved: there is nothing to remove.")
        sample_id = self.reading.ids[digit.box]
        try:
            self.samples.remove(sample_id)
            total = self.recount()
        except (InputError, OSError) as error:
            return failure("remove the sample", error)
        self.reading.unmark(digit)
        record = remove_record(sample_id, saved, digit.label, total)
        message = f"Removed the sample (a {saved}). {teaching_hint(total)}"
        return Outcome(message, PURPLE, records=(record,))

    def selected(self, canvas):
        """(the selected digit, None), or (None, the Outcome saying why there is none; None
        when nothing is drawn)."""
        if not self.is_current(canvas):
            return None, Outcome(STILL_READING)
        index = self.reading.selected_index
        if index is None and not self.reading.digits:
            return None, None
        if index is None:
            return None, Outcome("Select a digit first: click it, or press Tab.")
        return self.reading.digits[index], None

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
            ids = self.samples.append(samples)
            total = self.recount()
        except (InputError, OSError) as error:
            return failure("save the sample", error)
        saved = [(d, label, i) for (d, label), i in zip(labelled, ids, strict=True)]
        for digit, label, sample_id in saved:
            self.reading.mark(digit, label, sample_id)
        first = total - len(saved) + 1
        records = tuple(
            sample_record(sample_id, label, digit.label, number)
            for number, (digit, label, sample_id) in enumerate(saved, start=first)
        )
        if len(labelled) == 1:
            digit, label = labelled[0]
            read_as = "" if label == digit.label else f" (read as {digit.label})"
            message = f"Saved a {label}{read_as}. {teaching_hint(total)}"
        else:
            message = f"Saved {len(labelled)} digits. {teaching_hint(total)}"
        return Outcome(message, PURPLE, records=records)

    def relabel(self, digit, label):
        """Correct the saved sample of `digit`: it is a `label`."""
        was, sample_id = self.reading.label_of(digit), self.reading.ids[digit.box]
        try:
            self.samples.relabel(sample_id, label)
            total = self.recount()
        except (InputError, OSError) as error:
            return failure("correct the sample", error)
        self.reading.mark(digit, label, sample_id)
        record = relabel_record(sample_id, label, was, digit.label, total)
        message = f"Corrected: saved as a {label}, not a {was}. {teaching_hint(total)}"
        return Outcome(message, PURPLE, records=(record,))


def teaching_hint(total):
    """How many samples there are, and what that means for teaching."""
    if total >= MIN_SAMPLES:
        return f"{how_many(total)}: press T to teach."
    return f"{how_many(total)}: {MIN_SAMPLES - total} more needed to teach."


def failure(action, error):
    """The Outcome of an action that failed on bad input or a file-system error (a damaged
    sample set, a read-only folder): the panel and stderr say why."""
    reason = cli.describe_os_error(error) if isinstance(error, OSError) else shown(str(error))
    return Outcome(f"Could not {action}: {reason}", ORANGE, error=f"could not {action}: {reason}")


def check_samples_folder(path):
    """A folder, or a path where one can be made: nothing on the way is a file."""
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise InputError(f"{part}: not a folder (--samples {path})")
            return

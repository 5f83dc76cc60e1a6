"""What the app tells besides the picture: the outcome of an action (a message for the panel,
records for stdout, an error line for stderr, a model to read with from now on), and the
Reporter that passes the words on: the records as JSON lines with --jsonl, else a few words."""

import json
import sys
from dataclasses import dataclass

from deeplearning.personal.samples import how_many
from deeplearning.reading.recognize import read_number
from deeplearning.ui.colours import GREY


@dataclass(frozen=True)
class Outcome:
    """What an action came to. Each one changes what the panel shows: an empty one says only
    that (the teaching's progress moved)."""

    message: str = ""  # for the panel; "" keeps the message on show
    colour: tuple = GREY
    records: tuple = ()  # for stdout: reading_record's, sample_record's and the like
    error: str = ""  # for stderr, after "error: "
    recognizer: object = None  # the model to read with from now on, if it changes


def reading_record(event, digits, unread=None):
    """What was read after a stroke, an undo or a clear (`event`); `unread` is why the
    canvas was not read (too many marks), if it was not."""
    record = {
        "event": event,
        "text": read_number(digits),
        "digits": [
            {
                "label": int(digit.label),
                "confidence": round(float(digit.confidence), 4),
                "box": [int(value) for value in digit.box],
            }
            for digit in digits
        ],
    }
    if unread:
        record["unread"] = str(unread)
    return record


def sample_record(sample_id, label, predicted, samples):
    """A digit saved as `label`, read as `predicted`; `samples` the set's size now."""
    return {
        "event": "sample",
        "id": sample_id,
        "label": label,
        "predicted": predicted,
        "samples": samples,
    }


def relabel_record(sample_id, label, was, predicted, samples):
    """A saved sample corrected: a `label` now, not a `was`."""
    record = sample_record(sample_id, label, predicted, samples)
    return {**record, "event": "relabel", "was": was}


def remove_record(sample_id, label, predicted, samples):
    """A saved sample, a `label`, removed."""
    return {**sample_record(sample_id, label, predicted, samples), "event": "remove"}


def line(record, jsonl=False):
    """The line printed for a record."""
    if jsonl:
        return json.dumps(record)
    event = record["event"]
    if event in ("sample", "relabel", "remove"):
        label, predicted, samples = record["label"], record["predicted"], record["samples"]
        was = f"was {record['was']}, " if event == "relabel" else ""
        name = {"sample": "sample", "relabel": "corrected", "remove": "removed"}[event]
        return f"{name}: {label} ({was}read {predicted}), {how_many(samples)}"
    if event == "clear":
        return "cleared"
    if "unread" in record:
        return f"read: (nothing: {record['unread']})"
    return f"read: {record['text'] or '(nothing)'}"


class Reporter:
    """Prints on stdout and stderr, and keeps the message the panel shows."""

    def __init__(self, out=None, jsonl=False):
        self.out = out if out is not None else sys.stdout
        self.jsonl = jsonl
        self.message, self.colour = "", GREY

    def tell(self, outcome):
        """An Outcome's error line, records and message; its model is the app's to use."""
        if outcome.error:
            self.error(outcome.error)
        for record in outcome.records:
            self.output(record)
        if outcome.message:
            self.message, self.colour = outcome.message, outcome.colour

    def output(self, record):
        # A reader that went away (`--jsonl | head -n 1`) raises BrokenPipeError: the app
        # ends quietly (cli.run).
        print(line(record, self.jsonl), file=self.out, flush=True)

    def error(self, text):
        print(f"error: {text}", file=sys.stderr, flush=True)

    def saved(self, path):
        """Where the window was saved: on stderr with --jsonl, whose stdout is JSON only."""
        print(f"saved: {path}", file=sys.stderr if self.jsonl else self.out, flush=True)

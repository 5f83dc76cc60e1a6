"""The reader thread: runs the recognizer on copies of the canvas and its strokes so that the
pen never waits for the models."""

import threading
from dataclasses import dataclass

import numpy as np


@dataclass
class Job:
    """A canvas to read; `events` are the "stroke", "undo" and "clear" to report, in order,
    when it is read (none for a live reading)."""

    events: tuple
    array: np.ndarray  # a copy of the canvas, to read and to show next to the result
    blank: bool  # nothing drawn: nothing to read
    version: int = 0  # which state of the canvas this is: labels apply to the newest only
    strokes: list | None = None  # a copy of the strokes, in drawing order, for the path model


class Reader:
    """Runs the recognizer on a worker thread.

    At most one job waits: a newer one overtakes it and takes over its events, so that each
    event is still reported, in order, with the newer reading. However fast strokes come, the
    work and the memory stay those of two canvases. TensorFlow and OpenCV release Python's
    lock while they compute, so the frames go on meanwhile.
    """

    def __init__(self, recognizer):
        self.recognizer = recognizer
        self.waiting = None  # the next job to read
        self.results = []  # (job, digits, error), for the main thread to take
        self.busy = False
        self.closed = False
        self.condition = threading.Condition()
        self.thread = threading.Thread(target=self.work, name="reader", daemon=True)
        self.thread.start()

    def use(self, recognizer):
        """Read the jobs from now on with another recognizer (another model)."""
        with self.condition:
            self.recognizer = recognizer

    def submit(self, job):
        with self.condition:
            if self.waiting is not None:
                job.events = self.waiting.events + job.events
            self.waiting = job
            self.condition.notify_all()

    def work(self):
        while True:
            with self.condition:
                self.condition.wait_for(lambda: self.waiting is not None or self.closed)
                if self.waiting is None:
                    return
                job, self.waiting = self.waiting, None
                recognizer = self.recognizer
                self.busy = True
            digits, error = [], None
            try:
                if not job.blank:
                    digits = recognizer.recognize(job.array, job.strokes)
            except Exception as exception:  # handed to the main thread
                error = exception
            with self.condition:
                self.results.append((job, digits, error))
                self.busy = False
                self.condition.notify_all()

    def take(self):
        """The results that came in since the last call, oldest first."""
        with self.condition:
            results, self.results = self.results, []
        return results

    def wait(self, timeout):
        """Wait until every submitted job is read; False if `timeout` seconds pass first."""
        with self.condition:
            return self.condition.wait_for(lambda: self.waiting is None and not self.busy, timeout)

    def close(self, timeout):
        with self.condition:
            self.closed = True
            self.condition.notify_all()
        self.thread.join(timeout)

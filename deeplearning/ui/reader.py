"""The reader thread: runs the recognizer on copies of the canvas so that the pen never waits
for the model."""

import collections
import threading
from dataclasses import dataclass

import numpy as np


@dataclass
class Job:
    """A canvas to read; `event` is "stroke", "undo" or "clear" when the result is reported."""

    event: str | None
    array: np.ndarray  # a copy of the canvas, to read and to show next to the result
    blank: bool  # nothing drawn: nothing to read
    version: int = 0  # which state of the canvas this is: labels apply to the newest only


class Reader:
    """Runs the recognizer on a worker thread.

    Jobs are read in order. A live reading still waiting when a newer job comes is dropped;
    event jobs are always read, since each one is reported. TensorFlow and OpenCV release
    Python's lock while they compute, so the frames go on meanwhile.
    """

    def __init__(self, recognizer):
        self.recognizer = recognizer
        self.jobs = collections.deque()
        self.results = collections.deque()  # (job, digits, error)
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
            while self.jobs and self.jobs[-1].event is None:
                self.jobs.pop()
            self.jobs.append(job)
            self.condition.notify_all()

    def work(self):
        while True:
            with self.condition:
                self.condition.wait_for(lambda: self.jobs or self.closed)
                if not self.jobs:
                    return
                job = self.jobs.popleft()
                recognizer = self.recognizer
                self.busy = True
            digits, error = [], None
            try:
                if not job.blank:
                    digits = recognizer.recognize(job.array)
            except Exception as exception:  # handed to the main thread
                error = exception
            with self.condition:
                self.results.append((job, digits, error))
                self.busy = False
                self.condition.notify_all()

    def take(self):
        """The results that came in since the last call, oldest first."""
        with self.condition:
            results = list(self.results)
            self.results.clear()
        return results

    def wait(self, timeout):
        """Wait until every submitted job is read; False if `timeout` seconds pass first."""
        with self.condition:
            return self.condition.wait_for(lambda: not self.jobs and not self.busy, timeout)

    def close(self, timeout):
        with self.condition:
            self.closed = True
            self.condition.notify_all()
        self.thread.join(timeout)

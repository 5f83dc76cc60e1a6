"""What `model.fit` is given while training: augmented batches, made ahead by threads, and the
per-epoch log. They are Keras classes, so importing this module imports TensorFlow: the
training command imports it only once its arguments and files are checked."""

import csv
import sys
import time
from pathlib import Path

import keras
from tensorflow.keras.preprocessing.image import ImageDataGenerator

from deeplearning.core.atomic import OutputError, atomic_path
from deeplearning.training.evaluate import accuracy_report
from deeplearning.training.train import BATCH_SIZE


def make_augmenter():
    """Small random rotations, zooms and shifts: new but plausible digits every epoch."""
    return ImageDataGenerator(
        rotation_range=10, zoom_range=0.1, width_shift_range=0.1, height_shift_range=0.1
    )


class AugmentedBatches(keras.utils.PyDataset):
    """ImageDataGenerator's batches, prepared by `workers` threads ahead of the model.

    The augmentation is exactly the generator's; the threads only let the next batches be
    made while the model trains on the current one.
    """

    def __init__(self, x, y, batch_size=BATCH_SIZE, workers=1):
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=64)
        self.batches = make_augmenter().flow(x, y, batch_size=batch_size)

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        return self.batches[index]

    def on_epoch_end(self):
        self.batches.on_epoch_end()  # reshuffle, as the generator does


class EpochLog(keras.callbacks.Callback):
    """Write one CSV row per epoch: training seconds so far, learning rate and metrics.

    With `test` = (x, y) it also records accuracy on that held-out set. It is only
    written down, never used to steer training, so the test set stays unseen; the time it
    takes is left out of `seconds`. Without `path` the rows are only kept (a dry run).
    The first write does not replace an existing file unless `overwrite`. A write that
    fails (a full disk) is said once on stderr and kept in `error`: training goes on.
    """

    def __init__(self, path, test=None, overwrite=True):
        super().__init__()
        self.path, self.test = None if path is None else Path(path), test
        self.overwrite, self.error = overwrite, None
        self.rows = []

    def on_train_begin(self, logs=None):
        self.start, self.monitoring = time.perf_counter(), 0.0

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        row = {"epoch": epoch + 1, "seconds": round(now - self.start - self.monitoring, 1)}
        row["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        row.update({key: round(float(value), 5) for key, value in (logs or {}).items()})
        if self.test is not None:
            report = accuracy_report(self.model, *self.test)
            row["test_accuracy"] = round(report.accuracy, 5)
            print(f"epoch {epoch + 1}: test accuracy {row['test_accuracy']:.4f} (monitor only)")
        self.rows.append(row)
        if self.path is not None:
            self.write()
        self.monitoring += time.perf_counter() - now

    def write(self):
        try:
            with atomic_path(self.path, self.overwrite) as tmp, open(tmp, "w", newline="") as file:
                writer = csv.DictWriter(file, fieldnames=list(self.rows[-1]))
                writer.writeheader()
                writer.writerows(self.rows)
        except OutputError as error:
            if self.error is None:
                print(f"warning: {error}; training goes on", file=sys.stderr)
            self.error = error
            return
        self.overwrite, self.error = True, None  # the file is this run's own now

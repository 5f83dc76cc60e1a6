"""The models the app reads with: the base one (the shipped model, or --model) and the one
taught on the user's samples. The first is loaded at start-up; each is loaded once and kept; a
load after start-up runs on a thread, since it takes about a second."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from deeplearning.core.quiet import stderr_silenced
from deeplearning.personal.samples import SampleSet
from deeplearning.reading.recognize import Recognizer
from deeplearning.reading.runtime import DEFAULT_MODEL_PATH, ModelError

BASE, TAUGHT = "base", "taught"


def load_first(model, samples_dir):
    """The model to start with, (recognizer, taught?, warning): `model` (--model) if given,
    else the one taught on the samples in `samples_dir` if there is one, else the shipped one.
    A damaged taught model gives way to the shipped one, its error the warning; a bad `model`
    raises ModelError. The chatter of TensorFlow's first run stays off stderr."""
    taught_path = SampleSet(samples_dir).taught_model_path
    taught = model is None and taught_path.is_file()
    with stderr_silenced():
        try:
            return Recognizer(taught_path if taught else model), taught, None
        except ModelError as error:
            if not taught:
                raise
            # The shipped one reads, and T teaches a new one.
            return Recognizer(None), False, error


class Models:
    """The base model and the taught one: their paths, those loaded so far, the one in use."""

    def __init__(self, recognizer, current=BASE, base_path=None, taught_path=None, load=None):
        self.paths = {
            BASE: Path(base_path) if base_path is not None else DEFAULT_MODEL_PATH,
            TAUGHT: Path(taught_path) if taught_path is not None else None,
        }
        # Resolved once: the panel names the model every frame.
        self.base_is_shipped = self.paths[BASE].resolve() == DEFAULT_MODEL_PATH.resolve()
        self.recognizers = {BASE: None, TAUGHT: None}
        self.recognizers[current] = recognizer
        self.current = current
        self.load = load or Recognizer
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-loader")
        self.loading = {}  # kind -> the future of its load under way

    @property
    def recognizer(self):
        return self.recognizers[self.current]

    @property
    def other(self):
        return TAUGHT if self.current == BASE else BASE

    def name(self, kind=None):
        """How the panel names a model: "shipped", "taught on your samples" or a file name."""
        kind = kind or self.current
        if kind == TAUGHT:
            return "taught on your samples"
        return "shipped" if self.base_is_shipped else self.paths[BASE].name

    def describe(self, kind):
        """The model in a sentence: "the shipped model", "the model taught on your samples"."""
        name = self.name(kind)
        return "the shipped model" if name == "shipped" else f"the model {name}"

    def exists(self, kind):
        """Loaded already, or its file is there to load."""
        path = self.paths[kind]
        return self.recognizers[kind] is not None or (path is not None and path.is_file())

    def start_loading(self, kind):
        """Load a model on the thread; finished() hands it over. A newer load of the same
        kind (a model taught again) replaces one under way."""
        self.loading[kind] = self.executor.submit(self.load, self.paths[kind])

    def finished(self):
        """[(kind, error)] of the loads that ended since the last call, error None for a
        model now loaded."""
        ended = []
        for kind, future in list(self.loading.items()):
            if not future.done():
                continue
            del self.loading[kind]
            try:
                self.recognizers[kind] = future.result()
            except Exception as error:  # a missing or damaged file: ModelError, and others
                ended.append((kind, error))
            else:
                ended.append((kind, None))
        return ended

    def switch(self, kind):
        """Read with this (loaded) model from now on; its recognizer."""
        self.current = kind
        return self.recognizers[kind]

    def close(self):
        self.executor.shutdown(wait=False, cancel_futures=True)

"""What T and M do: teach a model on the user's samples in the background, load it once it is
made and switch between it and the base model. Each action gives an Outcome for the app to
pass on; `status` is the teaching under way, for the panel."""

from deeplearning.core.errors import InputError
from deeplearning.personal.progress import MIN_SAMPLES
from deeplearning.personal.samples import how_many
from deeplearning.ui.colours import ORANGE, PURPLE
from deeplearning.ui.labelling import failure
from deeplearning.ui.models import BASE, TAUGHT
from deeplearning.ui.report import Outcome
from deeplearning.ui.teaching import Teaching, teach_command


class Teacher:
    """Teaches on the samples of a Labeller and switches between the Models."""

    def __init__(self, models, labeller, teach_args=()):
        self.models = models
        self.labeller = labeller
        self.teach_args = list(teach_args)  # more options for the teach command
        self.teaching = None  # the teach command under way
        self.progress = None  # what it said last
        self.teaching_on = None  # how many samples the teaching under way learns from
        self.taught_on = None  # ... and the model it made, until it is in use

    @property
    def status(self):
        """The teaching's progress, None when none is under way."""
        return self.progress if self.teaching is not None else None

    def teach(self):
        """T: teach a model on the samples in a child process; the app reads on meanwhile."""
        if self.teaching is not None:
            return Outcome("Already teaching: the model is used once it is ready.")
        try:
            total = self.labeller.recount()
        except (InputError, OSError) as error:  # the command would fail on it too
            return failure("teach", error)
        if total < MIN_SAMPLES:  # the command would refuse too, after seconds of start-up
            saved = f"{how_many(total)} {'is' if total == 1 else 'are'} saved"
            hint = "label digits with 0-9 or Enter."
            return Outcome(f"Teaching needs {MIN_SAMPLES} samples, and {saved}: {hint}")
        samples = self.labeller.samples
        command = teach_command(
            samples.folder,
            samples.taught_model_path,
            self.models.paths[BASE].absolute(),  # the model the user corrected
            self.teach_args,
        )
        try:
            self.teaching = Teaching(command)
        except OSError as error:
            return failure("start teaching", error)
        self.progress = self.teaching.state()
        self.teaching_on = total
        return Outcome(f"Teaching on your {total} samples; draw on meanwhile.")

    def switch(self):
        """M: read with the other model, the shipped one or the taught one."""
        other = self.models.other
        if self.models.loading:
            return Outcome("Loading a model: a moment.")
        if not self.models.exists(other):
            return Outcome("No taught model yet: save samples (0-9, Enter), then press T.")
        if self.models.recognizers[other] is None:
            self.models.start_loading(other)
            return Outcome(f"Loading {self.models.describe(other)}...")
        return self.use(other)

    def update(self):
        """Follow the teaching and take in the models that finished loading: an Outcome for
        each change the panel is to show."""
        outcomes = [self.follow()] if self.teaching is not None else []
        outcomes += [self.loaded(kind, error) for kind, error in self.models.finished()]
        return [outcome for outcome in outcomes if outcome is not None]

    def follow(self):
        """Take in what the teaching said: an Outcome if there is anything new to show."""
        progress = self.teaching.state()
        moved, self.progress = progress != self.progress, progress
        if progress.status is None:
            return Outcome() if moved else None
        self.stop()  # it has ended: this only collects its output thread
        if progress.status != 0:
            return Outcome(f"Teaching failed: {progress.failure}", ORANGE)
        self.models.start_loading(TAUGHT)
        self.taught_on = self.teaching_on
        return Outcome("Taught. Loading your model...", PURPLE)

    def loaded(self, kind, error):
        if error is not None:
            self.taught_on = None
            return Outcome(f"Could not load the model: {error}", ORANGE)
        return self.use(kind)

    def use(self, kind):
        """Read with this loaded model from now on."""
        recognizer = self.models.switch(kind)
        if kind == TAUGHT and self.taught_on is not None:
            message = f"Now reading with your taught model ({self.taught_on} samples)."
            self.taught_on = None
        else:
            message = f"Now reading with {self.models.describe(kind)}."
        return Outcome(message, PURPLE, recognizer=recognizer)

    def stop(self):
        """Stop the teaching under way, if any."""
        if self.teaching is not None:
            self.teaching.stop()
            self.teaching = None

    def close(self):
        self.stop()
        self.models.close()

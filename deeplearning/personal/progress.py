"""What the teach command (python -m deeplearning teach) tells the app as it runs, defined
once for both ends: the command prints these lines on stdout, the app's panel reads them.

    progress: 0.45         the fraction of the training done, from 0.00 to 1.00
    error: <what>          why it failed (and a non-zero exit status)
    anything else          a line the panel may show as it is
"""

import re

MIN_SAMPLES = 3  # teaching needs this many samples: fewer cannot say how a hand differs
STEP = 0.05  # a progress line each time this much more of the training is done

_PROGRESS = re.compile(r"progress:\s*([0-9]*\.?[0-9]+)$")
# Not for the panel: Keras's progress bar ("12/103 ━━━ ..."), which comes with the progress
# lines glued to it, and the C++ log lines of TensorFlow ("E0000 00:00:17.1 ...").
_ANSI_CODE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_NOISE = re.compile(r"^(\d+/\d+\s|[EWIF]\d{4} \d)")


def progress_line(fraction):
    """The line the command prints when `fraction` of the training is done."""
    return f"progress: {fraction:.2f}"


def parse_line(raw):
    """(fraction, None) for a progress line, (None, text) for a line worth showing,
    (None, "") for anything else."""
    line = _ANSI_CODE.sub("", raw).replace("\b", "").strip()
    match = _PROGRESS.search(line)
    if match:
        return min(max(float(match.group(1)), 0.0), 1.0), None
    if _NOISE.match(line):
        return None, ""
    return None, line

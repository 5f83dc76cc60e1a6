"""The machine a model is trained on: one line describing it for the model's record, the
precision it computes fastest in, and how much TensorFlow says on stderr there."""

import contextlib
import os
import platform
import shutil
from pathlib import Path


def _cpuinfo(key):
    """The value of the first `key` line of /proc/cpuinfo (Linux), or None."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:  # not Linux
        pass
    return None


def machine_description():
    """'x86_64, 2 cores, <CPU model>, no GPU': where a model was trained, in one line."""
    import tensorflow as tf

    cpu = _cpuinfo("model name") or platform.processor() or platform.machine()
    gpus = len(tf.config.list_physical_devices("GPU"))
    gpu = "no GPU" if not gpus else f"{gpus} GPU" + "s" * (gpus > 1)
    return f"{platform.machine()}, {os.cpu_count()} cores, {cpu}, {gpu}"


def fastest_precision():
    """mixed_bfloat16 on a CPU with bfloat16 units (AVX-512 BF16 or AMX), where it trains
    about twice as fast as float32; float32 elsewhere, where bfloat16 would be slower."""
    flags = set((_cpuinfo("flags") or "").split())
    return "mixed_bfloat16" if flags & {"avx512_bf16", "amx_bf16"} else "float32"


@contextlib.contextmanager
def computing_in(precision):
    """Models built inside compute in `precision` ("float32" or "mixed_bfloat16": the weights
    stay float32); models built after it in float32 again."""
    import keras

    keras.mixed_precision.set_global_policy(precision)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def has_nvidia_gpu():
    """Whether the machine has an NVIDIA GPU (its device file, or the driver's nvidia-smi)."""
    return Path("/dev/nvidia0").exists() or shutil.which("nvidia-smi") is not None


def quiet_tensorflow_log():
    """Keep TensorFlow's C++ log to errors; on a machine without an NVIDIA GPU, off altogether.

    There its one error line is `failed call to cuInit: ... CUDA error`, printed at the first
    look for a device, which reads as a failure of the command; CUDA_VISIBLE_DEVICES="" does
    not stop it. Python errors still raise. A level the user set is kept. It takes effect only
    if set before TensorFlow is imported.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2" if has_nvidia_gpu() else "3")


def machine_record():
    """Where and with what a model was trained, for its JSON record."""
    import keras
    import numpy as np
    import tensorflow as tf

    return {
        "machine": machine_description(),
        "versions": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
        },
    }

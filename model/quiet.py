"""Import TensorFlow without its start-up noise on stderr, keeping every other line it prints.

TensorFlow's C++ logger writes "oneDNN custom operations are on" and CPU-feature lines at import
time, before TF_CPP_MIN_LOG_LEVEL is honoured. Setting TF_ENABLE_ONEDNN_OPTS=0 would hide one of
them but made training 3-4x slower here, so the lines are filtered instead.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

NOISE = re.compile(r"All log messages before absl::InitializeLog|oneDNN custom operations are on|"
                   r"cpu_feature_guard|To enable the following instructions|rebuild TensorFlow with the appropriate")


def import_tensorflow_quietly():
    """Import tensorflow (and keras) with the known start-up lines filtered out of stderr."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401  (keras' own import touches the same loggers)
            import tensorflow
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        for line in captured.read().decode(errors="replace").splitlines():
            if line.strip() and not NOISE.search(line):
                print(line, file=sys.stderr)
    return tensorflow

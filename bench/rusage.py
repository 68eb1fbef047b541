"""Run a command and report its own peak memory, untouched by the process that started it.

    .venv/bin/python -m bench.rusage REPORT -- COMMAND [ARG ...]

On Linux a child's peak RSS starts at its parent's: exec records the peak of the memory it replaces,
and a process started by vfork (as subprocess does) replaces its parent's. Started from the
benchmark, whose in-process simulators hold hundreds of MiB, every command would "peak" at the
benchmark's size. This small launcher is the parent instead; it writes the command's wall seconds
and peak RSS as JSON to REPORT, passes the command's output through and exits with its exit code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    report, separator, *command = sys.argv[1:]
    if separator != "--" or not command:
        raise SystemExit(__doc__)
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    Path(report).write_text(json.dumps({"seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024}))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())

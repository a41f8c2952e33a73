"""`python -m tests.crash POINT yijian-args…`: the CLI, killed (SIGKILL) at checkpoint POINT.

Crash tests run the real command in a child process and kill it at a named point of a job
(app.core.jobs.checkpoint), so production code carries no test switch of its own.
"""

from __future__ import annotations

import os
import signal
import sys

from app.cli import main
from app.core.jobs import on_checkpoint


def _kill_at(point: str) -> None:
    def hook(name: str) -> None:
        if name == point:
            os.kill(os.getpid(), signal.SIGKILL)

    on_checkpoint(hook)


if __name__ == "__main__":
    _kill_at(sys.argv[1])
    sys.argv = ["yijian", *sys.argv[2:]]
    main()

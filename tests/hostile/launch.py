"""Run a command as the child of this small process and report the child's peak memory.

A child forked straight from the test runner would count the runner's pages too: Linux
keeps the larger of a process's resident peaks from before and after ``execve``, and a
test runner that has driven a browser holds hundreds of megabytes. Forked from this
process, which imports nothing, the peak is the command's own.

    python -S launch.py ADDRESS_SPACE_BYTES REPORT_FILE COMMAND...

writes the child's ``ru_maxrss`` (KiB) to REPORT_FILE and ends as the child ended: with its
exit code, or killed by its signal.
"""

import os
import resource
import signal
import sys
from pathlib import Path


def main() -> None:
    limit, report, *command = sys.argv[1:]
    pid = os.fork()
    if pid == 0:
        resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))
        os.execv(command[0], command)  # noqa: S606 - the command is the test's own
    _, status, usage = os.wait4(pid, 0)
    Path(report).write_text(str(usage.ru_maxrss))
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        if -code not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


main()

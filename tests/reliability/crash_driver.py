"""Run build_pcfractal.py's main() and SIGKILL this very process at a chosen moment.

PCFRACTAL_CRASH selects the moment, counting only files below PCFRACTAL_CRASH_DIR:
    replace:N:before   just before the N-th rename into place (a complete partial file)
    replace:N:after    just after it (the file is final, the unit has not reported)
    write:N            in the middle of the N-th atomic write (half the bytes in the partial)
The kill is a real SIGKILL: no handler, no cleanup, no flush, like kill -9 or the OOM killer.
"""

import os
import signal
import sys
from pathlib import Path


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def install(spec: str, root: str) -> None:
    kind, n, *phase = spec.split(":")
    n = int(n)
    count = [0]
    root = str(Path(root).resolve())

    def ours(p) -> bool:
        return str(Path(p).resolve()).startswith(root)

    if kind == "replace":
        real = os.replace

        def replace(src, dst, *a, **k):
            if not ours(dst):
                return real(src, dst, *a, **k)
            count[0] += 1
            if count[0] == n and phase[0] == "before":
                die()
            r = real(src, dst, *a, **k)
            if count[0] == n and phase[0] == "after":
                die()
            return r

        os.replace = replace
    elif kind == "write":
        from pcfractal.io import atomic

        real_wb = atomic.write_bytes

        def write_bytes(path, data):
            if ours(path):
                count[0] += 1
                if count[0] == n:
                    tmp = atomic._partial_name(Path(path))
                    with open(tmp, "wb") as f:
                        f.write(data[: len(data) // 2])
                        f.flush()
                    die()
            return real_wb(path, data)

        atomic.write_bytes = write_bytes
    else:
        raise SystemExit(f"bad PCFRACTAL_CRASH {spec!r}")


if __name__ == "__main__":
    if os.environ.get("PCFRACTAL_CRASH"):
        install(os.environ["PCFRACTAL_CRASH"], os.environ["PCFRACTAL_CRASH_DIR"])
    from pcfractal.cli import main

    sys.exit(main(sys.argv[1:]))

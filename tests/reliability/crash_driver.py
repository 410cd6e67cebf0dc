"""Run pcfractal's main() and SIGKILL this very process at a chosen moment.

PCFRACTAL_CRASH selects the moment, counting only files below PCFRACTAL_CRASH_DIR:
    replace:N:before   just before the N-th rename into place (a complete partial file)
    replace:N:after    just after it (the file is final, the unit is not journaled yet)
    write:N            in the middle of the N-th atomic write (half the bytes in the partial)
    journal:N          in the middle of the N-th append to OUT/.pcfractal/journal.jsonl
                       (its lines but the last written and flushed, then half the last:
                       a torn last line)
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
                        f.write(data[: len(data) - len(data.splitlines()[-1]) // 2])  # whole lines, then half of the last
                        f.flush()
                    die()
            return real_wb(path, data)

        atomic.write_bytes = write_bytes
    elif kind == "journal":
        import json

        from pcfractal.build import output

        real_append = output.BuildFolder.append_journal

        def append_journal(self, records):
            if records and ours(self.path):
                count[0] += 1
                if count[0] == n:
                    data = "".join(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in records)
                    with open(self.state / output.JOURNAL_FILE, "a", encoding="utf-8") as f:
                        f.write(data[: len(data) - len(data.splitlines()[-1]) // 2])  # whole lines, then half of the last
                        f.flush()
                    die()
            return real_append(self, records)

        output.BuildFolder.append_journal = append_journal
    else:
        raise SystemExit(f"bad PCFRACTAL_CRASH {spec!r}")


if __name__ == "__main__":
    if os.environ.get("PCFRACTAL_CRASH"):
        install(os.environ["PCFRACTAL_CRASH"], os.environ["PCFRACTAL_CRASH_DIR"])
    from pcfractal.cli import main

    sys.exit(main(sys.argv[1:]))

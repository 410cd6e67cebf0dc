"""Run pcfractal on Ray with a unit whose worker process dies once, hard, for two
categories: category 1 after writing its files (before reporting), category 2 in the middle
of writing (a partial file left behind). Ray re-runs both tasks; the build must still equal a
clean one: no duplicate, no gap, no stray partial. Flags go to $PCFRACTAL_FLAGS.
PCFRACTAL_FAIL=enospc makes category 2 raise ENOSPC instead (the error must reach the user
as itself, not as a Ray error).

The hook wraps the engine's per-unit function (``pcfractal.build.stage._do_unit``, looked up
by ``run_stage`` at call time); defined here in ``__main__``, Ray ships it by value."""

import os
import sys
import uuid
from pathlib import Path

from pcfractal.build import stage as stage_mod
from pcfractal.cli import main

FLAGS = Path(os.environ["PCFRACTAL_FLAGS"])  # read here: Ray workers do not see our environment
FAIL = os.environ.get("PCFRACTAL_FAIL")
_real_do_unit = stage_mod._do_unit


def flaky_do_unit(stage, key, args, root, record):
    category = int(key) if stage.kind == "instances" else -1
    if FAIL == "enospc" and category == 2:
        import errno

        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(Path(root) / "000002.npy.x.partial"))
    flag = FLAGS / f"died-{category}"
    if category in (1, 2) and not flag.exists():
        flag.write_text(str(os.getpid()))
        if category == 1:
            _real_do_unit(stage, key, args, root, record)  # its files are written, then no report
        else:
            (Path(root) / f"{category:06d}.npy.{uuid.uuid4().hex[:8]}.partial").write_bytes(b"\x93NUMPY half")
        os._exit(1)  # the worker process dies: no exception, no report
    return _real_do_unit(stage, key, args, root, record)


stage_mod._do_unit = flaky_do_unit

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

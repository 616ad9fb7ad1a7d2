"""Execute notebooks headlessly (nbclient) and fail on the first cell that raises.

    python scripts/run_notebook.py examples/compare_llama.ipynb [...]

Each notebook runs with its own folder as the working directory; outputs are not written
back (the committed notebooks stay without outputs). Used by .ci/run.
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main(paths):
    for p in map(Path, paths):
        nb = nbformat.read(p, as_version=4)
        t0 = time.perf_counter()
        client = NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(p.parent)}}
        )
        try:
            client.execute()
        except CellExecutionError as e:
            print(f"{p}: a cell failed:\n{e}", file=sys.stderr)
            return 1
        print(f"{p}: executed {len(nb.cells)} cells in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))

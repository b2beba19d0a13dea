"""The crowd benchmark as a script: the same as ``pafdecode bench``.

    python bench/crowd.py --people 1 10 50 --occlusion 0.08 --json crowd.json --plot crowd.png

People keep their size whatever their count (``--size-model shrinking`` gives the older
scenes), and each row shows the scenes' mean CrowdPose crowd index.
"""

import sys

from pafdecode.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))

"""`python -m fmnist_lib.bench [options]`: the same as `fmnist bench [options]`."""

import sys

from ..cli import main

sys.exit(main(["bench", *sys.argv[1:]]))

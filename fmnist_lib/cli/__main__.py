"""`python -m fmnist_lib.cli [options]`: the same as `fmnist [options]`."""

import sys

from . import main

sys.exit(main())

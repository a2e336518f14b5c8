"""`python -m contracts run ...`, the same as the `contracts` console script."""

import sys

from .cli import main

sys.exit(main())

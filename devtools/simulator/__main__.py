"""`python -m devtools.simulator`: same as `o365mon simulate`."""

from .cli import main

raise SystemExit(main())

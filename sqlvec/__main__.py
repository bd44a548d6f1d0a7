import sys

from sqlvec.cli import main

sys.exit(main())

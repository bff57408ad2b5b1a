import sys

from shixian.cli import main

sys.exit(main())

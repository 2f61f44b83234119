import sys

from hakobu.cli.main import main

sys.exit(main())

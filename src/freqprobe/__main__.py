import sys

from freqprobe.cli import main

sys.exit(main())

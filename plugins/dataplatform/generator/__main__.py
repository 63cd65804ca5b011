import sys

from dataplatform.generator.cli import main

sys.exit(main())

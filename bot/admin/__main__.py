import sys

from bot.admin.cli import main

sys.exit(main())

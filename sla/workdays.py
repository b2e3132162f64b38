"""Re-export of ``govcloud.workdays``: the working-day clock lives in the core (DESIGN §2).

Kept because DESIGN §3 and older tests name ``sla.workdays``; new code imports the core module.
"""

from govcloud.workdays import *  # noqa: F403
from govcloud.workdays import __all__  # noqa: F401

"""Auto-fix: after the agent writes files, run the project's check and feed its errors back."""

from boocode.autofix.check import CheckVerdict, check_after_write
from boocode.autofix.config import AutofixPlan, plan_for
from boocode.autofix.detect import Detection, detect

AUTOFIX_MESSAGE = "autofix"
"""The `tool_name` of a user-role message auto-fix appended, telling it from a typed one."""

__all__ = [
    "AUTOFIX_MESSAGE",
    "AutofixPlan",
    "CheckVerdict",
    "Detection",
    "check_after_write",
    "detect",
    "plan_for",
]

"""The one error type a tool raises on purpose."""


class ToolError(Exception):
    """A failure the model caused or can fix; its message is shown to the model verbatim.

    The message is one clear sentence, never a traceback.
    """

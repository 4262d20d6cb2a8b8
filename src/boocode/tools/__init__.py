"""The agent's tools: file access, search and commands, all kept inside the workspace."""

from boocode.tools.errors import ToolError
from boocode.tools.path_guard import PathGuard
from boocode.tools.registry import WRITE_TOOLS, ToolRegistry
from boocode.tools.result import FileChange, ToolResult

__all__ = ["WRITE_TOOLS", "FileChange", "PathGuard", "ToolError", "ToolRegistry", "ToolResult"]

"""Workflow scripts: JavaScript that fans work out to agents, checked and run in a V8 sandbox."""

"""Test helpers shared by every test folder (importable as `support.*`)."""

"""The one door: every job a user can run, with typed requests and results (CLI and GUI call only this)."""

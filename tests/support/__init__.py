"""Helpers shared by the tests: sshd, tmux, git, sandbox, pilot, the app factory."""

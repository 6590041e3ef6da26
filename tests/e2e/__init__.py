"""The real CLI in a real terminal (tmux) and the served demo in a real browser."""

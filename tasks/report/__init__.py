"""The change-management record of a session (Markdown and HTML)."""

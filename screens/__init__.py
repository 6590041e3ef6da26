"""One Textual screen per phase or view, thin: they show and call ``tasks``, never ``tui``."""

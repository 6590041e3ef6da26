"""The frame: the Textual app, the command line (one module per subcommand), palette, themes."""

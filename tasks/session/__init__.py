"""The session: its file (state, records), journal, workspace, locations, phases, crashes."""

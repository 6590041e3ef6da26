"""The app driven with Textual's Pilot (keys, clicks) and snapshot tests."""

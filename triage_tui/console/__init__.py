"""The Textual app: screens, widgets, styles and theme loading."""

"""The project's own tools, run as scripts: the virtual screen the app is run on, and the
README's picture of the app."""

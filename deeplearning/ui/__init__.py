"""The app's window, in parts: the pen on the canvas, the reader thread, the right-half panel,
the digits the user labels, the models it reads with and the teaching in the background.

app.py holds the state and the event loop and puts these together.
"""

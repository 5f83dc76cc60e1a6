"""The app's window, in parts, each a module of its own:

- canvas: the left half, the strokes drawn with the pen (pen_surface) and undo;
- reader: the thread that reads copies of the canvas, so that the pen never waits;
- labelling: the latest reading, the digits the user selects and labels, and the samples;
- teacher: T and M, teaching in the background (teaching) and switching models (models);
- report: what actions come to (Outcome) and the lines printed on stdout and stderr;
- panel: the right half, drawn from a View of the state; colours: the colours of both;
- snapshot: S, the window saved as a PNG.

app.py turns pygame's events into their actions and runs the frames.
"""

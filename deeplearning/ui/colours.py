"""The app's colours, in one place so that the canvas, the panel and the tests agree."""

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GREEN = (0, 170, 0)  # a digit's box and the label the model read
BLUE = (30, 90, 230)  # the selected digit
PURPLE = (150, 40, 170)  # a label the user saved
ORANGE = (215, 110, 0)  # unsure, or something went wrong
GREY = (120, 120, 120)
LIGHT_GREY = (200, 200, 200)
DIVIDER = (60, 60, 60)

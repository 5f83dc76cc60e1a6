"""Replay real MNIST handwriting through the app's pen and measure how well it is read back.

Each MNIST image is turned into the pen strokes a person would draw with the mouse (thinned
to its centre line, traced into polylines), scaled and placed on the app's 640x640 canvas and
drawn with the app's round pen. The canvases go through the Recognizer exactly as the app's
drawings do, so the figures measure the whole path from mouse to label, not the CNN alone.

Command line:

    python -m deeplearning.replay --mnist ../shared/mnist                    # 5000 + 1000 cases
    python -m deeplearning.replay --mnist ../shared/mnist --quick --errors errors.png

Only MNIST test images 0..4999 are ever used: 5000..9999 are kept for judging.
"""

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d

from deeplearning.atomic import OverwriteError, atomic_path, refuse_overwrite
from deeplearning.data import IMAGE_SIZE, DataError, load_mnist
from deeplearning.model import ModelError
from deeplearning.recognize import Recognizer, extract_digits, read_number

# --- the app's canvas and pen ----------------------------------------------------------------
CANVAS_SIZE = (640, 640)  # (width, height)
PEN_RADIUS = 7
BACKGROUND = 255
INK = 0
MOUSE_STEP = 4  # px between the MOUSEMOTION positions of a hand drawing at a steady pace

# --- image -> strokes (lengths in 28x28 frame pixels unless said otherwise) ------------------
UPSCALE = 4  # thin at 112x112 so the centre line is smooth and 2x2 blobs survive thinning
INK_THRESHOLD = 100  # of 255; a little below half keeps faint joins joined
SMALL_HOLE_AREA = 1.0  # holes smaller than this (px^2) are scanner noise, not loops
SPECK_AREA = 3.0  # separate ink specks smaller than this (px^2) are dropped
SPUR_LENGTH = 2.5  # branches from a junction to an end shorter than this are thinning spurs
JUNCTION_MERGE = 1.5  # junctions closer than this are one crossing (as in an 8 or a 4)
MIN_PIECE_LENGTH = 2.0  # a separate piece of centre line shorter than this is dropped
DIRECTION_REACH = 3.0  # how far along a branch its direction at a junction is measured
MIN_CONTINUE_ANGLE = 110.0  # degrees between branches for a stroke to run straight through
SMOOTH_SIGMA = 0.5  # of the traced path, to remove the pixel staircase
SIMPLIFY_TOLERANCE = 0.05  # Douglas-Peucker tolerance on the smoothed path

# --- cases -----------------------------------------------------------------------------------
DEVELOPMENT_COUNT = 5000  # MNIST test images 0..4999; 5000..9999 are reserved for judging
SINGLE_HEIGHT = (110, 460)  # px of ink, as people draw one digit on the canvas
NUMBER_HEIGHT = (110, 250)  # px; a number too wide for the canvas is written smaller
NUMBER_DIGITS = (2, 4)
HEIGHT_JITTER = 0.08  # digits of one number differ in height by up to this fraction
GAP_FRACTION = (0.05, 0.40)  # gap between digits, as a fraction of the number's height
BASELINE_JITTER = 0.05  # vertical wobble of each digit, as a fraction of the height
CANVAS_MARGIN = 4  # px kept clear at the canvas edge

# --- command ---------------------------------------------------------------------------------
DEFAULT_MNIST = Path("../shared/mnist")
DEFAULT_COUNT = 5000
DEFAULT_NUMBERS = 1000
QUICK_COUNT = 50
QUICK_NUMBERS = 20
ERROR_TILES = 60
ERROR_COLUMNS = 6
TILE_SIZE = 200
CROP_SIZE = 40
HEIGHT_BANDS = (110, 200, 300, 461)

# The eight neighbours in ring order, as (dy, dx): N, NE, E, SE, S, SW, W, NW.
RING = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


class ReplayError(Exception):
    """Bad command-line input; the message says what is wrong."""


# --- thinning ---------------------------------------------------------------------------------


def binarize(image):
    """uint8 MNIST image (28, 28), ink bright -> bool ink mask at UPSCALE, cleaned of noise."""
    size = IMAGE_SIZE * UPSCALE
    big = cv2.resize(image.astype(np.uint8), (size, size), interpolation=cv2.INTER_LINEAR)
    ink = big >= INK_THRESHOLD
    ink = _fill_small_holes(ink, SMALL_HOLE_AREA * UPSCALE**2)
    return _drop_specks(ink, SPECK_AREA * UPSCALE**2)


def _fill_small_holes(ink, max_area):
    count, labels, stats, _ = cv2.connectedComponentsWithStats((~ink).astype(np.uint8), 4)
    filled = ink.copy()
    for label in range(1, count):
        x, y, w, h, area = stats[label]
        touches_edge = x == 0 or y == 0 or x + w == ink.shape[1] or y + h == ink.shape[0]
        if area < max_area and not touches_edge:
            filled[labels == label] = True
    return filled


def _drop_specks(ink, min_area):
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), 8)
    if count <= 2:
        return ink
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    keep = [i for i in range(1, count) if i == largest or stats[i, cv2.CC_STAT_AREA] >= min_area]
    return np.isin(labels, keep)


def _neighbours(padded):
    """The eight neighbour planes of a padded 0/1 array, in RING order."""
    h, w = padded.shape[0] - 2, padded.shape[1] - 2
    return [padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in RING]


def _zhang_suen(ink):
    img = np.pad(ink.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            p = _neighbours(img)  # p[0..7] = N, NE, E, SE, S, SW, W, NW
            count = sum(p)
            transitions = sum((p[i] == 0) & (p[(i + 1) % 8] == 1) for i in range(8))
            n, e, s, w = p[0], p[2], p[4], p[6]
            if step == 0:
                sides = ((n * e * s) == 0) & ((e * s * w) == 0)
            else:
                sides = ((n * e * w) == 0) & ((n * s * w) == 0)
            delete = (img[1:-1, 1:-1] == 1) & (count >= 2) & (count <= 6)
            delete &= (transitions == 1) & sides
            if delete.any():
                img[1:-1, 1:-1][delete] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1].astype(bool)


def _ring_is_simple(mask):
    """Whether a pixel with this ring of neighbours (bit i = RING[i]) can go without changing
    the topology: its ink neighbours are one 8-connected group and exactly one background
    group touches it side-on. Pixels with fewer than two ink neighbours are line ends: kept."""
    bits = [(mask >> i) & 1 for i in range(8)]
    if sum(bits) < 2:
        return False
    return _ring_groups(bits, 1) == 1 and _ring_groups(bits, 0) == 1


def _ring_groups(bits, value):
    """Ink (value 1, 8-adjacency) or side-touching background (value 0, 4-adjacency) groups."""
    parent = list(range(8))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(8):
        links = [(i + 1) % 8] + ([(i + 2) % 8] if value == 1 and i % 2 == 0 else [])
        for j in links:
            if bits[i] == value and bits[j] == value:
                parent[root(i)] = root(j)
    groups = {root(i) for i in range(8) if bits[i] == value}
    if value == 0:  # only background groups that reach a side neighbour separate ink
        groups = {g for g in groups if any(root(i) == g for i in (0, 2, 4, 6) if bits[i] == 0)}
    return len(groups)


SIMPLE_RING = np.array([_ring_is_simple(mask) for mask in range(256)])


def _remove_staircase(skeleton):
    """Zhang-Suen leaves L-shaped corners two pixels thick; drop those redundant pixels so
    every centre-line pixel has exactly two neighbours except at ends and junctions."""
    img = np.pad(skeleton, 1)
    for y, x in zip(*np.nonzero(img), strict=True):
        mask = sum(int(img[y + dy, x + dx]) << i for i, (dy, dx) in enumerate(RING))
        if SIMPLE_RING[mask]:
            img[y, x] = False
    return img[1:-1, 1:-1]


def skeletonize(ink):
    """A bool ink mask -> its 1-px-wide centre line, with the same pieces and holes."""
    return _remove_staircase(_zhang_suen(ink))


# --- tracing ----------------------------------------------------------------------------------


@dataclass
class _Graph:
    nodes: list  # node positions (x, y)
    edges: list = field(default_factory=list)  # [node_a, node_b, (n, 2) array of (x, y)]

    def degree(self, node):
        return sum((a == node) + (b == node) for a, b, _ in self.edges)


def _length(path):
    return float(np.sum(np.hypot(*np.diff(path, axis=0).T))) if len(path) > 1 else 0.0


def _trace_graph(skeleton):
    """Centre-line pixels -> a graph: nodes at ends and junctions, edges along the lines."""
    pixels = {(int(x), int(y)) for y, x in zip(*np.nonzero(skeleton), strict=True)}

    def around(p):
        return [(p[0] + dx, p[1] + dy) for dy, dx in RING if (p[0] + dx, p[1] + dy) in pixels]

    node_of = {}
    graph = _Graph(nodes=[])
    # Ends and lone dots are nodes of their own; touching junction pixels make one node.
    for p in sorted(pixels):
        if p in node_of or len(around(p)) == 2:
            continue
        node_of[p] = len(graph.nodes)
        cluster, todo = [p], [p] if len(around(p)) > 2 else []
        while todo:
            for q in around(todo.pop()):
                if q not in node_of and len(around(q)) > 2:
                    node_of[q] = node_of[p]
                    cluster.append(q)
                    todo.append(q)
        graph.nodes.append(np.mean(cluster, axis=0))
    walked = set()
    for start, node in node_of.items():
        for first in around(start):
            if (start, first) in walked or node_of.get(first) == node:
                continue
            path, previous, current = [start, first], start, first
            while current not in node_of:
                step = next((q for q in around(current) if q != previous), None)
                if step is None:
                    break
                previous, current = current, step
                path.append(current)
            walked.update({(start, first), (current, previous)})
            if current in node_of:
                graph.edges.append([node, node_of[current], np.array(path, float)])
    # What is left are closed loops with no junction or end: a plain 0.
    loose = pixels - set(node_of) - {p for _, _, path in graph.edges for p in map(tuple, path)}
    while loose:
        start = min(loose)
        path, previous, current = [start], None, start
        while True:
            step = next((q for q in around(current) if q != previous and q in loose), None)
            loose.discard(current)
            if step is None:
                break
            previous, current = current, step
            path.append(current)
        node = len(graph.nodes)
        graph.nodes.append(np.array(start, float))
        graph.edges.append([node, node, np.array([*path, start], float)])
    return graph


def _is_spur(graph, a, b):
    """An edge from a junction to a free end, or a tiny loop from a node back to itself."""
    degrees = sorted((graph.degree(a), graph.degree(b)))
    return a == b or (degrees[0] == 1 and degrees[1] >= 3)


def _prune_spurs(graph, max_length):
    """Drop the shortest spur, again and again: each removal can turn a junction into a bend."""
    while True:
        spurs = [
            (_length(path), index)
            for index, (a, b, path) in enumerate(graph.edges)
            if _is_spur(graph, a, b) and _length(path) < max_length
        ]
        if not spurs:
            return
        del graph.edges[min(spurs)[1]]


def _merge_junctions(graph, max_length):
    """Two junctions joined by a very short edge are one crossing: make them one node."""
    while True:
        short = [
            index
            for index, (a, b, path) in enumerate(graph.edges)
            if a != b
            and graph.degree(a) >= 3
            and graph.degree(b) >= 3
            and _length(path) < max_length
        ]
        if not short:
            return
        a, b, _ = graph.edges.pop(short[0])
        graph.nodes[a] = (graph.nodes[a] + graph.nodes[b]) / 2
        for edge in graph.edges:
            edge[0] = a if edge[0] == b else edge[0]
            edge[1] = a if edge[1] == b else edge[1]


def _drop_small_pieces(graph, min_length):
    """Drop separate pieces of centre line too short to be pen strokes (keep the biggest)."""
    parent = list(range(len(graph.nodes)))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for a, b, _ in graph.edges:
        parent[root(a)] = root(b)
    size = {}
    for a, _, path in graph.edges:
        size[root(a)] = size.get(root(a), 0.0) + _length(path)
    pieces = {root(n) for n in range(len(graph.nodes))}
    biggest = max(pieces, key=lambda r: size.get(r, 0.0))
    keep = {r for r in pieces if r == biggest or size.get(r, 0.0) >= min_length}
    graph.edges = [edge for edge in graph.edges if root(edge[0]) in keep]
    isolated = {n for n in range(len(graph.nodes)) if graph.degree(n) == 0 and root(n) in keep}
    return [graph.nodes[n] for n in sorted(isolated)]


def _end_direction(graph, index, side, reach):
    """Unit vector from an edge's node out along the edge, `reach` px away."""
    path = graph.edges[index][2]
    path = path if side == 0 else path[::-1]
    origin = graph.nodes[graph.edges[index][side]]
    distance = np.hypot(*(path - origin).T)
    beyond = np.flatnonzero(distance >= reach)
    vector = path[beyond[0] if len(beyond) else -1] - origin
    norm = np.hypot(*vector)
    return vector / norm if norm > 0 else vector


def _pair_ends(graph, reach, min_angle):
    """At each node, join the branch ends that run most nearly straight on, as one pen stroke
    runs through a crossing. Returns {(edge, side): (edge, side)} both ways."""
    ends = {}
    for index, (a, b, _) in enumerate(graph.edges):
        ends.setdefault(a, []).append((index, 0))
        ends.setdefault(b, []).append((index, 1))
    partner = {}
    limit = np.cos(np.radians(min_angle))
    for at_node in ends.values():
        if len(at_node) == 2:  # a bend, not a junction: the line just goes on
            partner[at_node[0]], partner[at_node[1]] = at_node[1], at_node[0]
            continue
        directions = {end: _end_direction(graph, *end, reach) for end in at_node}
        pairs = sorted(
            (float(directions[p] @ directions[q]), p, q)
            for i, p in enumerate(at_node)
            for q in at_node[i + 1 :]
        )
        for cosine, p, q in pairs:
            if cosine <= limit and p not in partner and q not in partner:
                partner[p], partner[q] = q, p
    return partner


def _chain_edges(graph, partner):
    """Follow paired ends from edge to edge into polylines; free ends start and stop them."""
    used, strokes = set(), []

    def follow(index, side):
        points = []
        while index not in used:
            used.add(index)
            path = graph.edges[index][2]
            path = path if side == 0 else path[::-1]
            points.extend(path[1:] if points and np.array_equal(points[-1], path[0]) else path)
            nxt = partner.get((index, 1 - side))
            if nxt is None:
                break
            index, side = nxt
        return np.array(points)

    free = [(i, s) for i in range(len(graph.edges)) for s in (0, 1) if (i, s) not in partner]
    for index, side in free:
        if index not in used:
            strokes.append(follow(index, side))
    for index in range(len(graph.edges)):  # closed loops: every end is paired
        if index not in used:
            strokes.append(follow(index, 0))
    return strokes


def _smooth(path, sigma, tolerance):
    """Round off the pixel staircase, then keep only the points needed for the shape."""
    if len(path) < 3:
        return path
    closed = np.array_equal(path[0], path[-1])
    mode = "wrap" if closed else "nearest"
    body = path[:-1] if closed else path
    smooth = np.stack([gaussian_filter1d(body[:, k], sigma, mode=mode) for k in (0, 1)], axis=1)
    if closed:
        smooth = np.vstack([smooth, smooth[:1]])
    else:  # the pen starts and stops where the line really ends
        smooth[0], smooth[-1] = path[0], path[-1]
    kept = cv2.approxPolyDP(smooth.astype(np.float32).reshape(-1, 1, 2), tolerance, False)
    return kept.reshape(-1, 2).astype(float)


def _orient(stroke):
    """People start a stroke at its top (or its left end, for a flat one)."""
    first, last = stroke[0], stroke[-1]
    if (last[1], last[0]) < (first[1], first[0]) and not np.array_equal(first, last):
        return stroke[::-1]
    return stroke


def image_to_strokes(image):
    """A 28x28 MNIST image (ink bright) -> pen strokes, each a list of (x, y) float points in
    the 28x28 frame, in the order and direction a person would likely draw them."""
    graph = _trace_graph(skeletonize(binarize(image)))
    # A fixed length, not one scaled by stroke width: on the development images, scaling
    # it cut real short strokes (a 4's bar, a 7's serif) and lost more digits than it saved.
    _prune_spurs(graph, SPUR_LENGTH * UPSCALE)
    _merge_junctions(graph, JUNCTION_MERGE * UPSCALE)
    dots = _drop_small_pieces(graph, MIN_PIECE_LENGTH * UPSCALE) if graph.nodes else []
    partner = _pair_ends(graph, DIRECTION_REACH * UPSCALE, MIN_CONTINUE_ANGLE)
    paths = _chain_edges(graph, partner) + [np.array([dot]) for dot in dots]
    strokes = []
    for path in paths:
        smooth = _smooth(path, SMOOTH_SIGMA * UPSCALE, SIMPLIFY_TOLERANCE * UPSCALE)
        frame = np.clip((smooth + 0.5) / UPSCALE - 0.5, 0, IMAGE_SIZE - 1)
        strokes.append(_orient(frame))
    strokes.sort(key=lambda s: (s[:, 1].min(), s[:, 0].min()))
    return [[(float(x), float(y)) for x, y in stroke] for stroke in strokes]


# --- placing and drawing ----------------------------------------------------------------------


def stroke_bounds(strokes):
    """(x_min, y_min, x_max, y_max) of the centre line."""
    points = np.concatenate([np.asarray(s, float).reshape(-1, 2) for s in strokes])
    return (*points.min(axis=0), *points.max(axis=0))


def ink_width(strokes, height, pen_radius=PEN_RADIUS):
    """How wide the ink will be once the strokes are placed at this ink height."""
    x0, y0, x1, y1 = stroke_bounds(strokes)
    return (x1 - x0) * _scale(y1 - y0, height, pen_radius) + 2 * pen_radius


def _scale(centre_height, height, pen_radius):
    return max(height - 2 * pen_radius, 1) / max(centre_height, 1.0)


def place_strokes(strokes, height, x, y, pen_radius=PEN_RADIUS):
    """Scale strokes (aspect kept) so their ink, drawn with this pen, is `height` px tall with
    its top-left corner at (x, y). Returns new strokes in canvas pixels."""
    x0, y0, _, y1 = stroke_bounds(strokes)
    scale = _scale(y1 - y0, height, pen_radius)
    return [
        [(x + pen_radius + (px - x0) * scale, y + pen_radius + (py - y0) * scale) for px, py in s]
        for s in strokes
    ]


def render(strokes, canvas_size=CANVAS_SIZE, pen_radius=PEN_RADIUS):
    """Draw canvas-pixel strokes as the app's pen does: a round pen of this radius dragged
    between whole-pixel mouse positions. Returns uint8 (height, width), 255 paper, 0 ink."""
    width, height = canvas_size
    canvas = np.full((height, width), BACKGROUND, np.uint8)
    for stroke in strokes:
        points = np.rint(np.asarray(stroke, float).reshape(-1, 2)).astype(int)
        for point in points:
            cv2.circle(canvas, tuple(map(int, point)), pen_radius, INK, -1)
        # OpenCV's thickness t reaches t/2 + 1 px either side of the line, so 2r (not 2r + 1)
        # gives the 2r + 1 px wide band that a radius-r disc sweeps, as the app's pen does.
        for a, b in zip(points[:-1], points[1:], strict=True):
            cv2.line(canvas, tuple(map(int, a)), tuple(map(int, b)), INK, 2 * pen_radius)
    return canvas


def pen_drawn(image, height, pen_radius=PEN_RADIUS):
    """An MNIST image as the app would see it drawn `height` px tall with its pen: the 28x28
    image the Recognizer makes of it, or None when it does not come back as one digit."""
    strokes = image_to_strokes(image)
    if not strokes:
        return None
    margin = 2 * pen_radius
    placed = place_strokes(strokes, height, margin, margin, pen_radius)
    _, _, right, bottom = stroke_bounds(placed)
    size = (int(right) + 2 * margin, int(bottom) + 2 * margin)
    _, images = extract_digits(render(placed, size, pen_radius))
    return images[0] if len(images) == 1 else None


def _pen_drawn_chunk(args):
    images, seed = args
    rng = np.random.default_rng(seed)
    out = images.copy()
    for i, image in enumerate(images):
        drawn = pen_drawn(image, int(rng.integers(SINGLE_HEIGHT[0], SINGLE_HEIGHT[1] + 1)))
        if drawn is not None:
            out[i] = drawn
    return out


def pen_drawn_copies(images, seed=0, workers=2, chunk=2000):
    """Pen-drawn versions of many images (at random heights), made by `workers` processes.

    An image that does not come back as one digit is kept as it was. Used to train a model
    on digits as the app sees them; only ever on training images.
    """
    import concurrent.futures
    import multiprocessing

    jobs = [(images[i : i + chunk], seed + i) for i in range(0, len(images), chunk)]
    context = multiprocessing.get_context("spawn")  # a fork would copy TensorFlow's threads
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        return np.concatenate(list(pool.map(_pen_drawn_chunk, jobs)))


def strokes_to_mouse_path(strokes, step=MOUSE_STEP):
    """Canvas-pixel strokes -> per stroke, the whole-pixel mouse positions a hand would pass
    through, about `step` px apart (button down at the first, up at the last)."""
    paths = []
    for stroke in strokes:
        points = np.asarray(stroke, float).reshape(-1, 2)
        along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
        stops = np.linspace(0.0, along[-1], max(int(np.ceil(along[-1] / step)), 1) + 1)
        xs, ys = np.interp(stops, along, points[:, 0]), np.interp(stops, along, points[:, 1])
        path = []
        for point in np.rint(np.stack([xs, ys], axis=1)).astype(int).tolist():
            if not path or path[-1] != tuple(point):
                path.append(tuple(point))
        paths.append(path)
    return paths


# --- cases ------------------------------------------------------------------------------------


@dataclass
class Case:
    """One canvas to read: the strokes, the text it should read as, and where it came from."""

    strokes: list  # canvas-pixel strokes of all its digits
    text: str
    sources: list  # indices of the MNIST images used
    boxes: list  # ink box (x, y, w, h) of each digit, left to right
    height: float  # ink height in px

    def canvas(self):
        return render(self.strokes)


class StrokeCache:
    """image_to_strokes for images by index, each traced at most once."""

    def __init__(self, images):
        self.images, self.cache = images, {}

    def __call__(self, index):
        if index not in self.cache:
            self.cache[index] = image_to_strokes(self.images[index])
        return self.cache[index]


def _as_cache(images):
    return images if isinstance(images, StrokeCache) else StrokeCache(images)


def single_digit_cases(images, labels, rng, count=None):
    """One digit per canvas, at a random ink height in SINGLE_HEIGHT, anywhere fully on the
    canvas. Uses images 0..count-1 (all of them by default)."""
    strokes_of = _as_cache(images)
    count = len(labels) if count is None else count
    width, height = CANVAS_SIZE
    cases = []
    for index in range(count):
        strokes = strokes_of(index)
        ink_height = rng.uniform(*SINGLE_HEIGHT)
        ink_w = ink_width(strokes, ink_height)
        while ink_w > width - 2 * CANVAS_MARGIN:  # a very wide digit: shrink it to fit
            ink_height *= (width - 2 * CANVAS_MARGIN) / ink_w * 0.99
            ink_w = ink_width(strokes, ink_height)
        x = rng.uniform(CANVAS_MARGIN, width - CANVAS_MARGIN - ink_w)
        y = rng.uniform(CANVAS_MARGIN, height - CANVAS_MARGIN - ink_height)
        placed = place_strokes(strokes, ink_height, x, y)
        box = (x, y, ink_w, ink_height)
        cases.append(Case(placed, str(labels[index]), [index], [box], ink_height))
    return cases


def number_cases(images, labels, rng, count=DEFAULT_NUMBERS):
    """`count` numbers of 2-4 digits written left to right on one line, digits drawn at random
    from the images: one height per number with a little jitter, small gaps, no overlaps."""
    strokes_of = _as_cache(images)
    cases = []
    for _ in range(count):
        size = rng.integers(NUMBER_DIGITS[0], NUMBER_DIGITS[1] + 1)
        digits = rng.choice(len(labels), size=size, replace=False)
        cases.append(_lay_out_number(strokes_of, labels, [int(i) for i in digits], rng))
    return cases


def _lay_out_number(strokes_of, labels, digits, rng):
    width, height = CANVAS_SIZE
    base = rng.uniform(*NUMBER_HEIGHT)
    heights = base * (1 + rng.uniform(-HEIGHT_JITTER, HEIGHT_JITTER, len(digits)))
    gaps = base * rng.uniform(*GAP_FRACTION, len(digits) - 1)
    room = width - 2 * CANVAS_MARGIN
    while True:
        widths = [ink_width(strokes_of(i), h) for i, h in zip(digits, heights, strict=True)]
        total = sum(widths) + gaps.sum()
        if total <= room:
            break
        # Too wide for the canvas: write it all smaller, as a person would.
        shrink = room / total * 0.99
        base, heights, gaps = base * shrink, heights * shrink, gaps * shrink
    wobble = base * rng.uniform(-BASELINE_JITTER, BASELINE_JITTER, len(digits))
    lowest = np.max(heights - wobble) + CANVAS_MARGIN  # every top stays on the canvas
    highest = height - CANVAS_MARGIN - np.max(wobble)  # every bottom stays on the canvas
    bottom = rng.uniform(lowest, max(lowest, highest))
    x = rng.uniform(CANVAS_MARGIN, CANVAS_MARGIN + room - total)
    strokes, boxes = [], []
    for index, h, w, dy, gap in zip(digits, heights, widths, wobble, [*gaps, 0], strict=True):
        top = bottom + dy - h
        strokes += place_strokes(strokes_of(index), h, x, top)
        boxes.append((x, top, w, h))
        x += w + gap
    text = "".join(str(labels[i]) for i in digits)
    return Case(strokes, text, digits, boxes, float(base))


# --- evaluation -------------------------------------------------------------------------------


def development_split(test_images, test_labels):
    """MNIST test images 0..4999 only: the rest are reserved for judging and never read here."""
    return test_images[:DEVELOPMENT_COUNT], test_labels[:DEVELOPMENT_COUNT]


def make_recognizer(model_path):
    """The app's Recognizer on this model (a seam the tests replace with a stand-in)."""
    return Recognizer(model_path=model_path)


@dataclass
class Outcome:
    case: Case
    digits: list  # what the Recognizer returned
    seconds: float
    scan_right: bool | None = None  # whether the model reads the original 28x28 scan right

    @property
    def read(self):
        return read_number(self.digits)

    @property
    def right(self):
        return self.read == self.case.text

    @property
    def failure(self):
        """None, 'wrong count' (too few or too many digits) or 'wrong label'."""
        if self.right:
            return None
        return "wrong count" if len(self.digits) != len(self.case.text) else "wrong label"


def scan_predictions(model_path, images):
    """The model's labels for the original 28x28 images: the baseline the replay is held to."""
    from deeplearning.data import to_model_input
    from deeplearning.model import load_model

    model = load_model(model_path)
    return model.predict(to_model_input(images), batch_size=500, verbose=0).argmax(axis=1)


def read_cases(recognizer, cases):
    outcomes = []
    for case in cases:
        canvas = case.canvas()
        start = time.perf_counter()
        digits = list(recognizer.recognize(canvas))
        outcomes.append(Outcome(case, digits, time.perf_counter() - start))
    return outcomes


def summarize(outcomes):
    """{'count', 'right', 'accuracy', 'wrong label', 'wrong count', 'too few', 'too many'}."""
    failures = [o.failure for o in outcomes]
    return {
        "count": len(outcomes),
        "right": failures.count(None),
        "accuracy": failures.count(None) / len(outcomes) if outcomes else 0.0,
        "wrong label": failures.count("wrong label"),
        "wrong count": failures.count("wrong count"),
        "too few": sum(len(o.digits) < len(o.case.text) for o in outcomes),
        "too many": sum(len(o.digits) > len(o.case.text) for o in outcomes),
    }


def report_lines(singles, numbers):
    lines = []
    for name, outcomes in (("single digits", singles), ("numbers", numbers)):
        s = summarize(outcomes)
        if not s["count"]:
            continue
        lines.append(
            f"{name}: {s['right']}/{s['count']} right = {100 * s['accuracy']:.2f}%; failures: "
            f"wrong label {s['wrong label']}, wrong digit count {s['wrong count']} "
            f"(too few {s['too few']}, too many {s['too many']})"
        )
    scanned = [o for o in singles if o.scan_right is not None]
    if scanned:
        lost = sum(o.scan_right and not o.right for o in scanned)
        lines.append(
            f"the model on the same {len(scanned)} images as scanned (28x28): "
            f"{100 * np.mean([o.scan_right for o in scanned]):.2f}% right; {lost} single digits "
            f"it reads right from the scan are lost in drawing and preprocessing"
        )
    if singles:
        lines.append("single digits by ink height: " + _by_height(singles))
        confusions = {}
        for o in singles:
            if o.failure == "wrong label":
                key = f"{o.case.text}->{o.read}"
                confusions[key] = confusions.get(key, 0) + 1
        top = sorted(confusions.items(), key=lambda item: -item[1])[:10]
        lines.append("commonest misreadings: " + (", ".join(f"{k} x{n}" for k, n in top) or "none"))
    seconds = np.array([o.seconds for o in singles + numbers]) * 1000
    if len(seconds):
        lines.append(
            f"recognition time per canvas: mean {seconds.mean():.1f} ms, "
            f"p95 {np.percentile(seconds, 95):.1f} ms"
        )
    return lines


def _by_height(outcomes):
    parts = []
    for low, high in zip(HEIGHT_BANDS[:-1], HEIGHT_BANDS[1:], strict=True):
        band = [o for o in outcomes if low <= o.case.height < high]
        if band:
            right = sum(o.right for o in band)
            parts.append(f"{low}-{high - 1} px {100 * right / len(band):.1f}% of {len(band)}")
    return ", ".join(parts)


def error_grid(outcomes, limit=ERROR_TILES):
    """A BGR image of up to `limit` failures: each canvas with the boxes the recognizer found,
    the expected and read text, and beneath it the 28x28 images the model was shown.
    Digits the model reads right from the scan come first: those the app itself loses."""
    failures = sorted((o for o in outcomes if not o.right), key=lambda o: o.scan_right is not True)
    failures = failures[:limit]
    tiles = [_error_tile(o) for o in failures]
    if not tiles:
        return None
    tiles += [np.full_like(tiles[0], 255)] * (-len(tiles) % ERROR_COLUMNS)
    rows = [np.hstack(tiles[i : i + ERROR_COLUMNS]) for i in range(0, len(tiles), ERROR_COLUMNS)]
    return np.vstack(rows)


def _error_tile(outcome):
    canvas = cv2.cvtColor(outcome.case.canvas(), cv2.COLOR_GRAY2BGR)
    for digit in outcome.digits:
        x, y, w, h = (int(v) for v in digit.box)
        cv2.rectangle(canvas, (x, y), (x + w, y + h), (0, 0, 255), 3)
    thumb = cv2.resize(canvas, (TILE_SIZE, TILE_SIZE), interpolation=cv2.INTER_AREA)
    strip = np.full((CROP_SIZE + 24, TILE_SIZE, 3), 255, np.uint8)
    for k, digit in enumerate(outcome.digits[: TILE_SIZE // CROP_SIZE]):
        crop = cv2.resize(np.asarray(digit.image, float), (CROP_SIZE, CROP_SIZE))
        crop = _to_uint8(crop)
        strip[24:, k * CROP_SIZE : (k + 1) * CROP_SIZE] = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
    label = f"want {outcome.case.text} read {outcome.read or '-'}"
    label += " (scan ok)" if outcome.scan_right else ""
    cv2.putText(strip, label, (3, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 200), 1)
    tile = np.vstack([thumb, strip])
    return cv2.copyMakeBorder(tile, 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=(128, 128, 128))


def _to_uint8(image):
    """Recognizer crops may be 0..1 floats or 0..255; show them as 0..255."""
    scale = 255.0 if image.max(initial=0) <= 1.0 else 1.0
    return np.clip(image * scale, 0, 255).astype(np.uint8)


def write_error_grid(path, outcomes):
    grid = error_grid(outcomes)
    if grid is None:
        return False
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), grid):
            raise ReplayError(f"{path}: could not write the image")
    return True


# --- command line -----------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Bad arguments become a ReplayError, reported like every other input problem."""

    def error(self, message):
        raise ReplayError(message)


def parse_args(argv):
    parser = _Parser(
        prog="python -m deeplearning.replay",
        description="Replay MNIST test digits (images 0..4999 only) as pen strokes on the app's "
        "canvas and measure how well the recognizer reads them.",
    )
    parser.add_argument(
        "--mnist",
        type=Path,
        default=DEFAULT_MNIST,
        help=f"folder with the MNIST IDX files (default {DEFAULT_MNIST})",
    )
    parser.add_argument("--model", type=Path, help="model file (default: model/mnist_cnn.keras)")
    parser.add_argument(
        "--count",
        type=int,
        default=DEFAULT_COUNT,
        help=f"single-digit canvases, from test images 0..count-1 (default {DEFAULT_COUNT}, "
        f"at most {DEVELOPMENT_COUNT})",
    )
    parser.add_argument(
        "--numbers",
        type=int,
        default=DEFAULT_NUMBERS,
        help=f"canvases with a number of 2-4 digits (default {DEFAULT_NUMBERS})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for sizes and places (default 0)")
    parser.add_argument("--errors", type=Path, help="write a PNG grid of failures here")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --errors file")
    parser.add_argument(
        "--quick",
        "--dry-run",
        action="store_true",
        help=f"a quick check: --count {QUICK_COUNT} --numbers {QUICK_NUMBERS}",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.count, args.numbers = QUICK_COUNT, QUICK_NUMBERS
    if not 0 <= args.count <= DEVELOPMENT_COUNT:
        raise ReplayError(
            f"--count {args.count} is out of range: it must be 0..{DEVELOPMENT_COUNT} "
            f"(MNIST test images {DEVELOPMENT_COUNT}..9999 are reserved for judging)"
        )
    if args.numbers < 0:
        raise ReplayError(f"--numbers {args.numbers} is out of range: it must be 0 or more")
    if args.count + args.numbers == 0:
        raise ReplayError("nothing to do: --count and --numbers are both 0")
    return args


def run(args):
    if args.errors:
        refuse_overwrite([args.errors], args.force)
    _, (test_images, test_labels) = load_mnist(args.mnist)
    images, labels = development_split(test_images, test_labels)
    if args.count > len(labels) or (args.numbers and not len(labels)):
        raise ReplayError(f"{args.mnist}: --count {args.count} but only {len(labels)} test images")
    recognizer = make_recognizer(args.model)
    rng = np.random.default_rng(args.seed)
    strokes_of = StrokeCache(images)
    singles = read_cases(recognizer, single_digit_cases(strokes_of, labels, rng, args.count))
    if singles:
        scan = scan_predictions(args.model, images[: args.count])
        for outcome, label in zip(singles, scan, strict=True):
            outcome.scan_right = str(label) == outcome.case.text
    numbers = read_cases(recognizer, number_cases(strokes_of, labels, rng, args.numbers))
    model = args.model or "model/mnist_cnn.keras"
    print(f"replayed MNIST test images 0..{len(labels) - 1} with model {model}, seed {args.seed}")
    for line in report_lines(singles, numbers):
        print(line)
    if args.errors and write_error_grid(args.errors, singles + numbers):
        print(f"wrote {args.errors}")
    single, number = summarize(singles), summarize(numbers)
    result = {
        "single_accuracy": round(single["accuracy"], 5),
        "single_count": single["count"],
        "number_accuracy": round(number["accuracy"], 5),
        "number_count": number["count"],
    }
    print(json.dumps(result))
    return 0


def main(argv=None):
    try:
        args = parse_args(argv)
    except ReplayError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        return run(args)
    except (ReplayError, DataError, ModelError, OverwriteError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

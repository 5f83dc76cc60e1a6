"""From a scanned digit to the pen strokes a person would draw: thinning and tracing.

An MNIST image is thinned to its centre line, the centre line is traced into a graph of
ends, junctions and the lines between them, and the lines are chained into strokes the way
a pen runs straight through a crossing. The replay draws these strokes with the app's pen
to measure the app on MNIST's test digits; the training draws them to make pen copies of
its images (`traced_copies`).
"""

from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d
from skimage import morphology

from deeplearning.pen_data.drawing import drawn_copies
from deeplearning.reading.images import IMAGE_SIZE

# Lengths in 28x28 frame pixels unless said otherwise.
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

# The eight neighbours in ring order, as (dy, dx): N, NE, E, SE, S, SW, W, NW.
RING = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


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
    """Thinning leaves some L-shaped corners two pixels thick; drop those redundant pixels so
    every centre-line pixel has exactly two neighbours except at ends and junctions."""
    img = np.pad(skeleton, 1)
    for y, x in zip(*np.nonzero(img), strict=True):
        mask = sum(int(img[y + dy, x + dx]) << i for i, (dy, dx) in enumerate(RING))
        if SIMPLE_RING[mask]:
            img[y, x] = False
    return img[1:-1, 1:-1]


def skeletonize(ink):
    """A bool ink mask -> its 1-px-wide centre line, with the same pieces and holes:
    scikit-image's thinning, then the corners it leaves two pixels thick made one."""
    return _remove_staircase(morphology.skeletonize(ink))


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
        first, points = index, []
        while index not in used:
            used.add(index)
            path = graph.edges[index][2]
            path = path if side == 0 else path[::-1]
            points.extend(path[1:] if points and np.array_equal(points[-1], path[0]) else path)
            nxt = partner.get((index, 1 - side))
            if nxt is None:
                return np.array(points)
            index, side = nxt
        # Back at the first edge: a loop. Close it, even where a crossing's pixels lay between
        # where it left and where it came back.
        if index == first and not np.array_equal(points[0], points[-1]):
            points.append(points[0])
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
    if not closed:  # the pen starts and stops where the line really ends
        smooth[0], smooth[-1] = path[0], path[-1]
    kept = cv2.approxPolyDP(smooth.astype(np.float32).reshape(-1, 1, 2), tolerance, closed)
    kept = kept.reshape(-1, 2).astype(float)
    return np.vstack([kept, kept[:1]]) if closed else kept  # a loop ends where it began


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


# --- traced copies for training -------------------------------------------------------------


def _traced(image, rng):
    return image_to_strokes(image)


def traced_copies(images, seed=0, workers=2):
    """MNIST images as the app would see them: traced into strokes, drawn at random heights
    with the app's pen and prepared by the Recognizer, by `workers` processes.

    An image that does not come back as one digit is kept as it was. Used to train a model
    on digits as the app sees them; only ever on training images.
    """
    drawn, kept = drawn_copies(images, _traced, seed, workers, chunk=2000)
    out = np.array(images, copy=True)
    out[kept] = drawn
    return out

"""The layout budget: what a scene would cost ``dot``, estimated before Graphviz runs.

``dot`` ranks nodes, puts a hidden (virtual) node on every rank an edge passes over, orders each
rank to reduce crossings, then places nodes side by side by solving a network-simplex problem
with a node per ranked node and per edge segment, and edges for the segments, for neighbours in
a rank and between every two clusters that share ranks. That step dominates for dense graphs:
its iterations grow with the problem's nodes and each scans its edges. A chain of 60 stages that
each copy from the first takes ``dot`` over 20 CPU seconds, 400 stages side by side in the layers
view 6 s, the largest real Dockerfiles we know 0.2 s. :func:`layout_size` estimates that problem
from a longest-path ranking of the scene, in linear time; its cost is the geometric mean of its
nodes and edges, and :func:`check_layout` refuses scenes over the ``MAX_LAYOUT_COST`` setting at
once with :class:`~webapp.errors.LayoutTooLarge` (422), whose message says what to draw instead.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from ..errors import LayoutTooLarge
from .scene import Scene

MAX_LAYOUT_COST = 5500
"""Default of the ``MAX_LAYOUT_COST`` setting: the largest :func:`layout_cost` handed to ``dot``.

Measured with legend edges as xlabels (no doubled ranks): the real corpus's worst is about 3,300
(moby/buildkit in the layers view, under 0.1 s of ``dot``); 200 stages side by side as layers
about 5,150 (0.1 s); a chain of 60 stages that each copy from the first 4,400 (0.6 s), of 70
stages 6,000 (1.4 s, refused); that chain of 60 as layers 8,900 (10 s); 150-stage diamonds drawn
as layers 32,000 (over 25 s)."""


@dataclass(frozen=True, slots=True)
class LayoutSize:
    """The network-simplex problem ``dot`` would solve to place a scene's nodes, estimated."""

    nodes: int
    """Ranked nodes, hidden nodes and one per edge segment."""
    edges: int
    """Two per edge segment, one per ranked node, one per pair of clusters sharing ranks."""

    @property
    def cost(self) -> int:
        """The geometric mean of nodes and edges: what the budget compares."""
        return math.isqrt(self.nodes * self.edges)


def layout_size(scene: Scene) -> LayoutSize:
    """Estimate the placement problem from a longest-path ranking of ``scene``.

    An edge spanning ``k`` ranks adds ``k - 1`` hidden nodes and ``k`` segments. (Edge labels
    are written as ``xlabel``, placed after layout, so they do not double rank distances as a
    plain ``label`` would.) Clusters (stages in the layers view) are
    kept apart by an edge between every two whose ranks overlap.
    """
    ids = [node.id for node in scene.nodes]
    index = {node_id: i for i, node_id in enumerate(ids)}
    edges = [
        (index[e.tail], index[e.head])
        for e in scene.edges
        if e.tail in index and e.head in index and e.tail != e.head
    ]
    succ: list[list[int]] = [[] for _ in ids]
    for tail, head in edges:
        succ[tail].append(head)
    order, back = _order_and_back_edges(succ)
    rank = [0] * len(ids)
    for node in order:  # topological order of the graph without its back edges
        for head in succ[node]:
            if (node, head) not in back and rank[head] < rank[node] + 1:
                rank[head] = rank[node] + 1
    segments = sum(max(abs(rank[head] - rank[tail]), 1) for tail, head in edges)
    hidden = segments - len(edges)
    ranked = len(ids) + hidden
    return LayoutSize(ranked + segments, 2 * segments + ranked + _overlapping_pairs(scene, rank))


def layout_cost(scene: Scene) -> int:
    """:attr:`LayoutSize.cost` of ``scene``."""
    return layout_size(scene).cost


def _overlapping_pairs(scene: Scene, rank: list[int]) -> int:
    """Pairs of clusters whose rank ranges overlap (a sweep over ranges sorted by their start)."""
    ranges: dict[str, tuple[int, int]] = {}
    for node, r in zip(scene.nodes, rank, strict=True):
        if node.cluster:
            low, high = ranges.get(node.cluster, (r, r))
            ranges[node.cluster] = (min(low, r), max(high, r))
    pairs = 0
    ends: list[int] = []  # ends of the ranges seen so far, sorted
    for low, high in sorted(ranges.values()):
        pairs += len(ends) - bisect.bisect_left(ends, low)
        bisect.insort(ends, high)
    return pairs


def check_layout(scene: Scene, limit: int = MAX_LAYOUT_COST) -> int:
    """The scene's :func:`layout_cost`; raise :class:`LayoutTooLarge` when it passes ``limit``."""
    cost = layout_cost(scene)
    if cost > limit:
        advice = (
            "pick a target stage, use the stages view, or ask for json or dot"
            if scene.view == "layers"
            else "pick a target stage to draw only what it builds, or ask for json or dot"
        )
        raise LayoutTooLarge(
            f"diagram too dense to lay out: its layout cost is {cost}, over the limit of {limit}; {advice}"
        )
    return cost


def _order_and_back_edges(succ: list[list[int]]) -> tuple[list[int], set[tuple[int, int]]]:
    """A topological order once the back edges of a depth-first search are set aside (no recursion)."""
    state = [0] * len(succ)  # 0 new, 1 on the stack, 2 done
    finished: list[int] = []
    back: set[tuple[int, int]] = set()
    for root in range(len(succ)):
        if state[root]:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if state[child] == 0:
                    state[child] = 1
                    stack.append((child, iter(succ[child])))
                    break
                if state[child] == 1:
                    back.add((node, child))
            else:
                state[node] = 2
                finished.append(node)
                stack.pop()
    finished.reverse()
    return finished, back

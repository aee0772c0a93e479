"""The layout budget: what a scene would cost ``dot``, estimated before Graphviz runs.

``dot`` ranks nodes, puts a hidden (virtual) node on every rank an edge passes over, orders each
rank to reduce crossings, then places nodes side by side by solving a network-simplex problem
over every node and edge segment. That last step grows faster than the square of its size and
dominates for dense graphs: a chain of 60 stages that each copy from the first takes ``dot`` over
20 CPU seconds, while the largest real Dockerfiles we know take 0.2 s. :func:`layout_cost`
estimates that size from a longest-path ranking of the scene, in linear time and milliseconds;
:func:`check_layout` refuses scenes over the ``MAX_LAYOUT_COST`` setting at once with
:class:`~webapp.errors.LayoutTooLarge` (422), whose message says what to draw instead.
"""

from __future__ import annotations

from ..errors import LayoutTooLarge
from .scene import Scene

MAX_LAYOUT_COST = 6000
"""Default of the ``MAX_LAYOUT_COST`` setting: the largest :func:`layout_cost` handed to ``dot``.

Measured (``tests/test_budget.py``): the real corpus's worst is about 5,100 (moby/buildkit in the
layers view, 0.2 s of ``dot``); a chain of 60 stages that each copy from the first costs 7,300 and
takes ``dot`` over 20 s; 150-stage diamonds cost 45,000."""


def layout_cost(scene: Scene) -> int:
    """The size of the graph ``dot`` positions: nodes, hidden nodes and edge segments.

    Ranks come from a longest-path ranking; an edge spanning ``k`` ranks adds ``k - 1`` hidden
    nodes and ``k`` segments (``dot`` gives each segment a node of its own when it places nodes
    side by side, the step that dominates for dense graphs). When any edge has a label ``dot``
    doubles every rank distance, and so the cost.
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
    stretch = 2 if any(e.label for e in scene.edges) else 1
    spans = [max(abs(rank[head] - rank[tail]) * stretch, 1) for tail, head in edges]
    return len(ids) + sum(spans) * 2 - len(spans)


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
            f"diagram too dense to lay out: it would need about {cost} boxes and hidden bends "
            f"(limit {limit}); {advice}"
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

"""The model's frozen values, built by ``model._quick_init``'s constructor, behave as dataclasses."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from webapp import analyze
from webapp.model import Edge, EdgeKind, Instruction, Source, SourceKind


def test_quick_constructor_keeps_dataclass_behaviour():
    ins = Instruction("RUN", 3, 4, "echo hi", args=("echo hi",), source="RUN echo hi")
    assert type(ins) is Instruction
    assert (ins.keyword, ins.line, ins.end_line, ins.flags, ins.json, ins.sub) == (
        "RUN",
        3,
        4,
        (),
        False,
        None,
    )
    assert ins == Instruction(
        keyword="RUN", line=3, end_line=4, rest="echo hi", args=("echo hi",), source="RUN echo hi"
    )
    assert hash(ins) == hash(copy.copy(ins))
    with pytest.raises(dataclasses.FrozenInstanceError):
        ins.line = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        Instruction("RUN", 1)  # type: ignore[call-arg]
    moved = dataclasses.replace(ins, line=7)
    assert (moved.line, moved.rest, type(moved)) == (7, "echo hi", Instruction)


def test_model_values_copy_and_pickle():
    graph = analyze("FROM alpine AS a\nRUN x\nFROM a\nCOPY --from=a /x /y\n")
    for value in (graph, graph.stages[1], graph.edges[-1], graph.stages[0].instructions[0]):
        assert copy.copy(value) == value
        assert copy.deepcopy(value) == value
        assert pickle.loads(pickle.dumps(value)) == value
    edge = Edge(EdgeKind.COPY, Source(SourceKind.STAGE, 0, None, "a"), 1, 4)
    assert edge in graph.edges

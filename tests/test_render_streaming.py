"""The fast render path: a warm dot started ahead, and the SVG sanitised while dot writes it."""

from __future__ import annotations

import time

import pytest

from webapp.render import graphviz as gv
from webapp.render import run_dot, sanitize_svg
from webapp.render.sanitize import SvgSanitizer

SMALL = 'digraph g { a -> b; b [label="x<y & \\"z\\""]; }'


def _wait_for_spare(key_part: str, timeout: float = 5.0) -> gv._Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with gv._SPARES_LOCK:
            for key, job in gv._SPARES.items():
                if key_part in key[0]:
                    return job
        time.sleep(0.02)
    raise AssertionError("no spare dot was started")


def _no_spares() -> None:
    with gv._SPARES_LOCK:
        jobs = list(gv._SPARES.values())
        gv._SPARES.clear()
    for job in jobs:
        job.discard()


@pytest.mark.dot
def test_warm_render_leaves_a_started_dot_that_the_next_render_uses():
    _no_spares()  # spares other tests left (other limits) must not be mistaken for this one's
    first = run_dot(SMALL, "svg", warm=True)
    spare = _wait_for_spare("-Tsvg")
    assert spare.proc.poll() is None, "the spare must be waiting for its input"
    second = run_dot(SMALL, "svg", warm=True)
    assert first == second
    assert spare.proc.poll() is not None, "the spare took the second render and has finished"
    assert not any(job is spare for job in gv._SPARES.values())


@pytest.mark.dot
def test_cold_render_starts_no_spare():
    _no_spares()
    run_dot(SMALL, "png")
    time.sleep(0.2)
    assert gv._SPARES == {}


@pytest.mark.dot
def test_a_dead_spare_is_replaced():
    _no_spares()
    run_dot(SMALL, "svg", warm=True)
    spare = _wait_for_spare("-Tsvg")
    gv._kill_group(spare.proc)
    spare.proc.wait()
    assert b"<svg" in run_dot(SMALL, "svg", warm=True)


@pytest.mark.dot
def test_large_input_and_output_do_not_deadlock():
    # Far more than a pipe buffer each way: dot reads while we write, we read while it writes.
    nodes = " ".join(f'n{i} [label="{"x" * 200} {i}"];' for i in range(1500))
    dot = f"digraph g {{ {nodes} }}"
    assert len(dot) > 256 * 1024
    svg = run_dot(dot, "svg", timeout=60)
    assert svg.count(b"<g ") > 1500


@pytest.mark.dot
@pytest.mark.parametrize("size", [1, 7, 4096])
def test_sanitising_in_pieces_equals_sanitising_the_whole(size):
    raw = gv.run_dot_raw(SMALL + "\n", "svg")
    sanitizer = SvgSanitizer()
    for start in range(0, len(raw), size):
        sanitizer.feed(raw[start : start + size])
    assert sanitizer.close() == sanitize_svg(raw)


def test_truncated_svg_is_a_render_error():
    sanitizer = SvgSanitizer()
    sanitizer.feed(b'<svg xmlns="http://www.w3.org/2000/svg"><g>')
    with pytest.raises(gv.RenderError, match="could not be read"):
        sanitizer.close()


def test_a_doctype_with_an_internal_subset_is_refused_in_pieces():
    sanitizer = SvgSanitizer()
    bomb = b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
    with pytest.raises(gv.RenderError):
        for i in range(0, len(bomb), 5):
            sanitizer.feed(bomb[i : i + 5])
        sanitizer.close()

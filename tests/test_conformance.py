"""Conformance with BuildKit itself, on the vendored corpus (no ``../shared`` needed).

``tests/data/buildkit/<case>.json`` is what BuildKit's own Dockerfile frontend (moby/buildkit
73ed6825, run offline by the project's oracle) makes of ``tests/data/corpus/<file>`` with the
options recorded in the JSON. Each case runs our analysis in-process with the same options and
compares the facts both sides can state (docs/buildkit-semantics.md section 5 explains each):

- the error: BuildKit refuses the file -> we report an ``error`` diagnostic at one of its lines;
  BuildKit builds -> we report no error;
- the stages as ``--call=targets`` lists them (even when the build fails): count, name, FROM
  line, last line, each instruction's keyword and lines;
- when BuildKit builds: each stage's base, its ``FROM --platform`` (image bases only), its
  reachability, the target, the target platform, the meta ARG values FROM lines see, every edge
  (kind, target stage, line, source) and the images the target pulls;
"""

from __future__ import annotations

import json
import posixpath
import re
import urllib.parse
from collections import Counter

import pytest
from conftest import BUILDKIT, CORPUS

from webapp import analyze
from webapp.checks import BUILDKIT_RULE_NAMES
from webapp.errors import DockerfileError

CASES = sorted(p.stem for p in BUILDKIT.glob("*.json"))

# Cases whose graph facts differ from BuildKit today, each with the reason. Keep this set empty:
# a case is listed only while the fix is on another branch, and removed when it is merged.
KNOWN_GRAPH_DIFFERENCES: set[str] = set()  # every corpus file matches BuildKit


def load(case: str) -> dict:
    return json.loads((BUILDKIT / f"{case}.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- BuildKit's side


def bk_stages(out: dict) -> list[dict] | None:
    """The stages as BuildKit lists them (its ``--call=targets`` answer), or None when it cannot."""
    if out.get("targets") is None or out.get("targets_error"):
        return None
    stages = []
    for t in out["targets"]:
        commands = t.get("commands") or []
        stages.append(
            {
                "name": t["name"].lower() or None,
                "line": t["ranges"][0]["start"],
                "end_line": max([r["end"] for r in t["ranges"]] + [c["end_line"] for c in commands]),
                "instructions": [(c["name"].upper(), c["line"], c["end_line"]) for c in commands],
                "platform_flag": t["platform"],
            }
        )
    return stages


def bk_dispatch(out: dict) -> list[dict]:
    """The dispatch state of each real stage (implicit image states of ``--from=<image>`` left out)."""
    states = []
    for s in out["build"]["stages"]:
        if s["implicit_image"]:
            continue
        if s["base_stage"] is not None:
            base = ("stage", s["base_stage"])
        elif s["base_name"] == "scratch":
            base = ("scratch", None)
        else:
            base = ("image", s["base_name"])
        states.append(
            {
                "base": base,
                "platform": s["platform"],
                "reachable": s["reachable"],
                "target": s["target"],
                "edges_via": s.get("edges_via"),
            }
        )
    return states


# ---------------------------------------------------------------- our side


def ours(case: str, out: dict) -> dict:
    """Our graph JSON for the case, or ``{"refused": DockerfileError}`` when we cannot read it."""
    options = out["options"]
    data = (CORPUS / out["file"]).read_bytes()
    try:
        graph = analyze(
            data,
            target=options.get("target"),
            build_args=options.get("build_args") or {},
            platform=options.get("platform"),
        )
    except DockerfileError as exc:
        return {"refused": exc}
    return graph.to_dict()


def our_errors(doc: dict) -> list[tuple[int | None, str]]:
    if "refused" in doc:
        exc = doc["refused"]
        return [(exc.line, exc.message)]
    return [(d["line"], d["message"]) for d in doc["diagnostics"] if d["severity"] == "error"]


def our_base(stage: dict) -> tuple:
    base = stage["base"]
    if base["kind"] == "stage":
        return ("stage", base["stage"])
    if base["kind"] == "image":
        return ("image", base["image"])
    return (base["kind"], None)


def our_images(doc: dict) -> set[str]:
    """The images the target pulls: reachable stages' image bases and image sources."""
    reachable = {s["index"] for s in doc["stages"] if s["reachable"]}
    images = {
        s["base"]["image"]
        for s in doc["stages"]
        if s["reachable"] and s["base"]["kind"] == "image" and s["base"]["image"]
    }
    for e in doc["edges"]:
        if e["source"]["kind"] == "image" and e["target"] in reachable and e["source"]["ref"]:
            images.add(e["source"]["ref"])
    return images


# ---------------------------------------------------------------- sources


def git_key(ref: str | None) -> str | None:
    """A git source reduced to host/path (no scheme, user, ``.git``) + ``#ref:subdir``.

    BuildKit names ``git://github.com/o/r.git#v1``; we keep the URL as written
    (``https://github.com/o/r.git?ref=v1``). Both forms reduce to the same key.
    """
    if not ref:
        return ref
    url, _, fragment = ref.partition("#")
    url, _, query = url.partition("?")
    match = re.match(r"^\w+://(?:[^@/]*@)?([^/]*)(.*)$", url) or re.match(r"^(?:[^@/]*@)?([^:/]+):(.*)$", url)
    remote = f"{match.group(1)}/{match.group(2).lstrip('/')}" if match else url
    remote = remote.rstrip("/").removesuffix(".git")
    git_ref, _, subdir = fragment.partition(":")
    params = {k: v[0] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
    git_ref = params.get("ref") or git_ref
    for key, prefix in (("tag", "refs/tags/"), ("branch", "refs/heads/")):
        if params.get(key):
            git_ref = params[key] if params[key].startswith(prefix) else prefix + params[key]
    subdir = posixpath.normpath("/" + (params.get("subdir") or subdir)).lstrip("/")
    if not git_ref and not subdir:
        return remote
    return f"{remote}#{git_ref}" + (f":{subdir}" if subdir else "")


def bk_sources(edge: dict) -> set[tuple]:
    """Every (kind, id) our edge may name for one BuildKit edge."""
    src = edge["source"]
    kind = src["kind"]
    stages = {("stage", i) for i in src.get("stages") or []}
    if kind == "stage":
        # A stage that adds nothing to its image is the same LLB vertex as that image.
        return stages | ({("image", src["ref"])} if src.get("ref") else set())
    if kind == "scratch":
        return {("scratch", None)} | stages
    if kind == "context":
        return {("context", None)}
    if kind == "git":
        return {("git", git_key(src["ref"]))}
    return {(kind, src.get("ref"))}


def our_source(edge: dict) -> tuple:
    src = edge["source"]
    kind = src["kind"]
    if kind == "stage":
        return ("stage", src["stage"])
    if kind in ("context", "scratch"):
        return (kind, None)
    if kind == "git":
        return ("git", git_key(src["ref"]))
    return (kind, src["ref"])


def our_kind(edge: dict) -> str:
    return ("onbuild-" if edge["onbuild"] else "") + edge["kind"]


# ---------------------------------------------------------------- comparisons


def error_differences(out: dict, doc: dict) -> list[str]:
    error = out["build"]["error"]
    mine = our_errors(doc)
    if error is None:
        return [f"we report {mine[0][1]!r} at line {mine[0][0]}; BuildKit builds"] if mine else []
    lines = sorted({r["start"] for r in error["ranges"]})
    if not mine:
        return [f"BuildKit fails with {error['message']!r} at {lines}; we report no error"]
    if lines and not any(line in lines for line, _ in mine):
        return [f"BuildKit's error is at {lines} ({error['message']!r}); ours at {[n for n, _ in mine]}"]
    return []


def stage_differences(theirs: list[dict], doc: dict) -> list[str]:
    mine = doc["stages"]
    if len(theirs) != len(mine):
        return [f"BuildKit lists {len(theirs)} stages, we have {len(mine)}"]
    out = []
    for i, (b, p) in enumerate(zip(theirs, mine, strict=True)):
        spans = [(x["keyword"].split()[0].upper(), x["line"], x["end_line"]) for x in p["instructions"]]
        for what, want, have in (
            ("name", b["name"], p["name"]),
            ("FROM line", b["line"], p["line"]),
            ("last line", b["end_line"], p["end_line"]),
            ("instructions", b["instructions"], spans),
        ):
            if want != have:
                out.append(f"stage {i} {what}: BuildKit {want!r}, ours {have!r}")
    return out


def dispatch_differences(out: dict, theirs: list[dict], doc: dict) -> list[str]:
    build = out["build"]
    states = bk_dispatch(out)
    diffs = []
    target = None
    for i, (listed, state, stage) in enumerate(zip(theirs, states, doc["stages"], strict=True)):
        if state["target"]:
            target = i
        if state["base"] != our_base(stage):
            diffs.append(f"stage {i} base: BuildKit {state['base']}, ours {our_base(stage)}")
        if state["base"][0] == "image":  # FROM --platform counts only on image bases
            want = state["platform"] if listed["platform_flag"] else None
            if want != stage["platform"]:
                diffs.append(f"stage {i} platform: BuildKit {want!r}, ours {stage['platform']!r}")
        if state["reachable"] != stage["reachable"]:
            diffs.append(f"stage {i} reachable: BuildKit {state['reachable']}, ours {stage['reachable']}")
    if target != doc["target"]:
        diffs.append(f"target: BuildKit {target}, ours {doc['target']}")
    if build["target_platform"] != doc["platform"]:
        diffs.append(f"target platform: BuildKit {build['target_platform']}, ours {doc['platform']}")
    # Meta ARGs: BuildKit's map also holds the builtin platform ARGs and TARGETSTAGE, which we list
    # only when the Dockerfile declares them.
    seen = build.get("global_args") or {}
    listed_args = {a["name"]: a["value"] for a in doc["global_args"]}
    for name, value in listed_args.items():
        if seen.get(name) != value:
            diffs.append(f"meta ARG {name}: BuildKit {seen.get(name)!r}, ours {value!r}")
    for name in sorted(set(seen) - BUILTIN_ARGS - set(listed_args)):
        diffs.append(f"meta ARG {name}={seen[name]!r} is not in our list")
    return diffs


BUILTIN_ARGS = {
    f"{side}{part}"
    for side in ("BUILD", "TARGET")
    for part in ("PLATFORM", "OS", "OSVERSION", "ARCH", "VARIANT")
} | {"TARGETSTAGE"}


def edge_differences(out: dict, doc: dict) -> list[str]:
    """Pair every BuildKit edge with one of ours: kind, target, line (not for ONBUILD), source."""
    states = bk_dispatch(out)
    # Stages BuildKit saw only through one pass over all stages (no ONBUILD triggers run) or only
    # through its dispatch view (stage and image sources only).
    no_onbuild = {i for i, s in enumerate(states) if s["edges_via"] in ("llb-allstages", "dispatch")}
    partial = {i for i, s in enumerate(states) if s["edges_via"] == "dispatch"}
    mine = [e for e in doc["edges"] if e["source"]["kind"] != "invalid"]
    used = [False] * len(mine)
    missing = []
    for edge in out["build"]["edges"]:
        if edge["source"]["kind"] == "inline":
            continue  # COPY <<EOF makes its file inside the op: nothing is taken in
        accepted = bk_sources(edge)
        for j, e in enumerate(mine):
            if (
                not used[j]
                and our_kind(e) == edge["kind"]
                and e["target"] == edge["target"]
                and (edge["kind"].startswith("onbuild-") or e["line"] == edge["line"])
                and our_source(e) in accepted
            ):
                used[j] = True
                break
        else:
            missing.append(edge)
    diffs = [
        f"BuildKit edge {e['kind']} -> stage {e['target']} line {e['line']} from {e['source']}: none of ours"
        for e in missing
    ]
    at_missing = {(e["target"], e["line"], e["kind"]) for e in missing}
    for j, e in enumerate(mine):
        if used[j] or (e["target"], e["line"], our_kind(e)) in at_missing:
            continue
        if e["target"] in partial and e["source"]["kind"] in ("context", "url", "git"):
            continue
        if e["target"] in no_onbuild and e["onbuild"]:
            continue
        diffs.append(
            f"our edge {our_kind(e)} -> stage {e['target']} line {e['line']} from {our_source(e)}: extra"
        )
    return diffs


def graph_differences(case: str) -> list[str]:
    out = load(case)
    assert not out.get("crash"), f"the oracle failed on {case}"
    doc = ours(case, out)
    diffs = error_differences(out, doc)
    theirs = bk_stages(out)
    if "refused" in doc or theirs is None:
        return diffs
    stage_diffs = stage_differences(theirs, doc)
    diffs += stage_diffs
    if out["build"]["error"] or len(theirs) != len(doc["stages"]):
        return diffs  # BuildKit dispatched nothing: no bases, edges or images to compare
    diffs += dispatch_differences(out, theirs, doc)
    diffs += edge_differences(out, doc)
    images = set(out["build"]["images"])
    pulled = our_images(doc)
    if images != pulled:
        diffs.append(f"images: BuildKit only {sorted(images - pulled)}, ours only {sorted(pulled - images)}")
    return diffs


# ---------------------------------------------------------------- the tests


def test_vendored_data_is_complete():
    """Every BuildKit output names a vendored Dockerfile whose bytes are the ones it was made from."""
    import hashlib

    assert len(CASES) >= 100
    for case in CASES:
        out = load(case)
        data = (CORPUS / out["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == out["sha256"], case


def test_known_differences_are_real_cases():
    assert KNOWN_GRAPH_DIFFERENCES <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_graph_matches_buildkit(case):
    diffs = graph_differences(case)
    if case in KNOWN_GRAPH_DIFFERENCES:
        assert diffs, f"{case} now matches BuildKit: remove it from KNOWN_GRAPH_DIFFERENCES"
        return
    assert not diffs, "\n".join(diffs)


def test_comparison_notices_a_difference():
    """The comparison is not blind: a wrong stage name, edge line or error is reported."""
    case = "synthetic__onbuild.Dockerfile"
    out = load(case)
    doc = ours(case, out)
    theirs = bk_stages(out)
    assert not stage_differences(theirs, doc)
    doc["stages"][0]["name"] = "renamed"
    assert stage_differences(theirs, doc)
    doc = ours(case, out)
    doc["edges"][0]["line"] += 1
    assert edge_differences(out, doc)
    doc = ours(case, out)
    doc["diagnostics"].append({"severity": "error", "line": 1, "message": "x", "code": "x"})
    assert error_differences(out, doc)


def test_git_key_reads_both_spellings():
    assert git_key("git://github.com/o/r.git#v1") == git_key(
        "https://github.com/o/r.git?ref=v1&keep-git-dir=1"
    )
    assert git_key("git@github.com:o/r.git#main:sub") == "github.com/o/r#main:sub"
    assert git_key("https://github.com/o/r.git?tag=v2") == "github.com/o/r#refs/tags/v2"


def lint_differences(case: str) -> list[str]:
    out = load(case)
    doc = ours(case, out)
    theirs = Counter(
        (w["rule"], w["ranges"][0]["start"] if w["ranges"] else None) for w in out.get("lint") or []
    )
    mine = Counter(
        (d["code"], d["line"]) for d in doc.get("diagnostics", []) if d["code"] in BUILDKIT_RULE_NAMES
    )
    missed = [
        f"BuildKit warns {rule} at line {line}; we do not"
        for rule, line in sorted((theirs - mine).elements())
    ]
    extra = [
        f"we warn {rule} at line {line}; BuildKit does not"
        for rule, line in sorted((mine - theirs).elements())
    ]
    return missed + extra


@pytest.mark.parametrize("case", CASES)
def test_build_checks_match_buildkit(case):
    assert not lint_differences(case), "\n".join(lint_differences(case))


def test_the_corpus_exercises_the_checks():
    rules = Counter(w["rule"] for case in CASES for w in load(case).get("lint") or [])
    assert sum(rules.values()) >= 100
    assert {"LegacyKeyValueFormat", "JSONArgsRecommended", "NoEmptyContinuation"} <= set(rules)

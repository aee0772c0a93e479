"""Whole projects: named contexts, bake, compose, the builder pattern and hostile inputs (the core)."""

from __future__ import annotations

import io
import os
import struct
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from webapp import analyze
from webapp.options import OptionError
from webapp.project import (
    ProjectInputError,
    ProjectTooLarge,
    analyze_project,
    from_archive,
    from_directory,
    from_mapping,
    parse_build_contexts,
)
from webapp.project.inputs import Limits, check_path

PROJECTS = Path(__file__).resolve().parent / "data" / "projects"


def links_of(project, kind):
    return [link for link in project.to_dict()["links"] if link["kind"] == kind]


# -- named build contexts (webapp.analyze) ---------------------------------------------------------


def test_build_context_image_replaces_an_image_in_from():
    graph = analyze("FROM base\nRUN true\n", contexts={"base": "docker-image://alpine:3.20"})
    base = graph.stages[0].base
    assert (base.kind.value, base.image) == ("image", "docker.io/library/alpine:3.20")
    assert graph.edges[0].source.ref == "docker.io/library/alpine:3.20"
    assert any(d.code == "named-context" for d in graph.diagnostics)
    plain = analyze("FROM base\nRUN true\n")
    assert plain.stages[0].base.image == "docker.io/library/base:latest"


def test_build_context_replaces_a_stage_of_that_name_and_skips_its_instructions():
    text = "FROM golang AS base\nCOPY --from=tools /x /x\nFROM base AS build\nRUN make\n"
    graph = analyze(text, contexts={"base": "docker-image://alpine:3.20"})
    assert graph.stages[0].base.image == "docker.io/library/alpine:3.20"
    assert graph.stages[1].base.stage == 0  # FROM base still names the (replaced) stage
    # BuildKit never runs the replaced stage: its COPY --from=tools takes nothing in
    assert not [e for e in graph.edges if e.source.text == "tools"]
    assert [e for e in analyze(text).edges if e.source.text == "tools"]


def test_build_context_in_copy_from_and_mount_and_name_normalisation():
    text = "FROM alpine\nCOPY --from=src . /src\nRUN --mount=from=cache,target=/c true\n"
    graph = analyze(
        text,
        contexts={
            "src": "./source",
            "cache": "target:warm",
            "docker.io/library/alpine": "docker-image://debian:12",
        },
    )
    kinds = {e.source.text: (e.source.kind.value, e.source.ref) for e in graph.edges}
    assert kinds["src"] == ("context", "./source")
    assert kinds["cache"] == ("image", "target:warm")
    assert kinds["alpine"] == ("image", "docker.io/library/debian:12")
    assert not [d for d in graph.diagnostics if d.code == "unknown-stage"]


def test_scratch_and_context_are_never_named_contexts():
    graph = analyze(
        "FROM scratch\nCOPY --from=context / /\n",
        contexts={"scratch": "docker-image://alpine", "context": "./x"},
    )
    assert graph.stages[0].base.kind.value == "scratch"
    assert not any(d.code == "named-context" for d in graph.diagnostics)


@pytest.mark.parametrize(
    "value, kind, ref",
    [
        ("docker-image://alpine:3.20", "image", "docker.io/library/alpine:3.20"),
        ("docker-image://scratch", "scratch", None),
        ("target:base", "image", "target:base"),
        ("oci-layout:///srv/layout@sha256:abc", "image", "oci-layout:///srv/layout@sha256:abc"),
        ("https://github.com/moby/buildkit.git#v0.13", "git", "https://github.com/moby/buildkit.git#v0.13"),
        ("git@github.com:moby/buildkit.git", "git", "git@github.com:moby/buildkit.git"),
        ("https://example.com/src.tar.gz", "url", "https://example.com/src.tar.gz"),
        ("../shared/src", "context", "../shared/src"),
    ],
)
def test_context_values_stand_for_what_buildx_sends(value, kind, ref):
    graph = analyze("FROM alpine\nCOPY --from=src / /\n", contexts={"src": value})
    source = graph.edges[-1].source
    assert (source.kind.value, source.ref, source.text) == (kind, ref, "src")


def test_parse_build_contexts_refuses_bad_names_and_values():
    assert parse_build_contexts(["base=docker-image://alpine:3.20"]) == {"base": "docker-image://alpine:3.20"}
    for bad in (["Base=x"], ["noequals"], ["a=" + "x" * 2000], ["a=b\x00"], {"": "x"}):
        with pytest.raises(OptionError):
            parse_build_contexts(bad)


# -- projects ----------------------------------------------------------------------------------------


def test_builder_pattern_links_and_converts():
    project = analyze_project(from_directory(PROJECTS / "builder-pattern"))
    data = project.to_dict()
    (copy,) = links_of(project, "copy-out")
    assert copy["from"] == {
        "path": "Dockerfile.build",
        "stage": "stage-0",
        "build": "build.sh:5",
        "file": "/go/src/app/app",
    }
    assert copy["to"]["path"] == "Dockerfile" and copy["to"]["file"] == "app" and copy["to"]["line"] == 4
    assert copy["line"] == 8 and copy["via"]["path"] == "build.sh"
    (converted,) = data["conversions"]
    text = converted["dockerfile"]
    assert "FROM golang:1.22 AS build" in text
    assert "COPY --from=build /go/src/app/app ./" in text
    assert "COPY app ./" not in text
    graph = converted["graph"]
    assert [s["name"] for s in graph["stages"]] == ["build", None]
    assert [s["reachable"] for s in graph["stages"]] == [True, True]
    assert not [d for d in graph["diagnostics"] if d["severity"] == "error"]


def test_bake_targets_contexts_inherits_and_default_group():
    project = analyze_project(from_directory(PROJECTS / "bake-contexts"))
    data = project.to_dict()
    builds = {b["name"]: b for b in data["builds"]}
    assert "_common" in builds and "_common" not in data["selected_builds"]  # buildable, not built
    assert builds["base"]["dockerfile"] == "base/baseapp.Dockerfile"  # dockerfile is inside context
    assert builds["app"]["args"]["GO_VERSION"] == "1.22"  # inherited, variable default substituted
    assert builds["app"]["platforms"] == ["linux/amd64", "linux/arm64"]
    assert data["selected"] == "default" and data["selected_builds"] == ["app", "base"]
    (target_link,) = links_of(project, "context-target")
    assert target_link["from"]["path"] == "base/baseapp.Dockerfile"
    assert target_link["to"] == {"path": "Dockerfile", "stage": "build"}
    assert target_link["line"] == 34 and target_link["via"]["text"] == 'baseapp = "target:base"'
    assert {link["to"]["target"] for link in links_of(project, "inherits")} == {"base", "app"}
    (image_link,) = links_of(project, "image")
    assert image_link["to"] == {"path": "tools.Dockerfile", "stage": "lint"}
    files = {f["path"]: f for f in data["files"]}
    assert files["tools.Dockerfile"]["built_stages"] == []  # not in the default group: greyed
    assert files["Dockerfile"]["built_stages"] == [0, 1]
    unresolved = [d["message"] for d in data["diagnostics"] if d["code"] == "unresolved"]
    assert any("lower" in m for m in unresolved)  # a function call: never guessed
    # REGISTRY has no default: empty, as buildx makes it, so the tag is "/app:latest", which buildx refuses
    assert {v["name"]: (v["value"], v["from"]) for v in data["variables"]} == {
        "GO_VERSION": ("1.22", "default"),
        "REGISTRY": ("", "empty"),
    }
    assert builds["app"]["tags"] == ["/app:latest"]
    (bad_tag,) = [d for d in data["diagnostics"] if d["code"] == "invalid-tag"]
    assert (bad_tag["path"], bad_tag["line"]) == ("docker-bake.hcl", 38)
    notes = {d["line"]: d["message"] for d in data["diagnostics"] if d["code"] == "bake-variable"}
    assert "--var REGISTRY=VALUE" in notes[7] and "environment" in notes[7] and '"1.22"' in notes[4]
    # the app graph was analysed with the bake contexts: FROM baseapp is the base target
    graph = files["Dockerfile"]["graph"]
    assert graph["stages"][0]["base"]["resolved"] == "target:base"
    assert graph["stages"][1]["base"]["image"] == "docker.io/library/alpine:3.20"


def test_bake_project_target_selects_and_unknown_is_refused():
    files = from_directory(PROJECTS / "bake-contexts")
    project = analyze_project(files, project_target="tools")
    assert project.selected_builds == ["tools"]
    assert project.built["Dockerfile"] == []
    with pytest.raises(ProjectInputError, match="unknown project target"):
        analyze_project(files, project_target="nope")


def test_bake_json_and_cycles():
    files = {
        "docker-bake.json": '{\n "target": {\n  "a": {"inherits": ["b"], "dockerfile": "a.Dockerfile"},\n'
        '  "b": {"inherits": ["a"]}\n }\n}\n',
        "a.Dockerfile": "FROM alpine\n",
    }
    data = analyze_project(files).to_dict()
    assert any(d["code"] == "bake-inherits-cycle" for d in data["diagnostics"])


def test_compose_services_additional_contexts_and_defaults():
    project = analyze_project(from_directory(PROJECTS / "compose-app"))
    data = project.to_dict()
    builds = {b["name"]: b for b in data["builds"]}
    assert set(builds) == {"base", "backend", "frontend"}  # mongo has no build
    assert builds["backend"]["args"] == {"NODE_VERSION": "20", "PORT": "3000"}  # << merge key
    assert builds["base"]["tags"] == ["example/node-base:dev"]  # ${TAG:-dev}
    assert builds["frontend"]["dockerfile"] == "frontend/Dockerfile"
    (ctx,) = links_of(project, "context-target")
    assert ctx["to"] == {"path": "backend/Dockerfile", "stage": "development"} and ctx["line"] == 21
    (image,) = links_of(project, "image")
    assert image["from"]["path"] == "backend/base.Dockerfile" and image["to"]["path"] == "frontend/Dockerfile"
    assert any("${REGISTRY}" in d["message"] for d in data["diagnostics"])


def test_user_build_context_links_and_overrides():
    files = {"Dockerfile": "FROM base\nRUN true\n"}
    project = analyze_project(files, build_contexts={"base": "docker-image://alpine:3.20"})
    (link,) = links_of(project, "build-context")
    assert link["from"] == {"image": "alpine:3.20"} and link["to"] == {
        "path": "Dockerfile",
        "stage": "stage-0",
    }
    assert project.graphs["Dockerfile"].stages[0].base.image == "docker.io/library/alpine:3.20"


def test_no_dockerfile_is_refused():
    with pytest.raises(ProjectInputError):
        analyze_project({"build.sh": "echo hi\n"})


def test_yaml_alias_bomb_and_bad_syntax_are_cheap_diagnostics():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join('*' + chr(97 + i) for _ in range(9))}]\n"
        for i in range(8)
    )
    files = {
        "compose.yaml": bomb + "services: *i\n",
        "docker-compose.yml": "services: [\n",
        "Dockerfile": "FROM a\n",
    }
    started = time.perf_counter()
    data = analyze_project(files).to_dict()
    assert time.perf_counter() - started < 5
    assert any(d["code"] == "compose-syntax" for d in data["diagnostics"])


# -- bounded inputs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["/etc/passwd", "../x", "a/../../x", "a\x00b", "C:x", "a\\b", "", "."])
def test_bad_paths_are_refused(bad):
    with pytest.raises(ProjectInputError):
        check_path(bad)


def zip_bytes(entries) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_bytes(members, mode="w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def test_zip_and_tar_archives_are_read_in_memory():
    entries = [
        ("proj/Dockerfile", "FROM alpine\n"),
        ("proj/src/main.go", "package main\n"),
        ("proj/build.sh", "true\n"),
    ]
    assert from_archive(zip_bytes(entries)) == {"proj/Dockerfile": "FROM alpine\n", "proj/build.sh": "true\n"}
    members = []
    for name, text in entries:
        info = tarfile.TarInfo(name)
        info.size = len(text)
        members.append((info, text.encode()))
    assert set(from_archive(tar_bytes(members))) == {"proj/Dockerfile", "proj/build.sh"}
    assert set(from_archive(tar_bytes(members, "w"))) == {"proj/Dockerfile", "proj/build.sh"}


def test_zip_bomb_is_refused_by_declared_and_actual_size():
    bomb = zip_bytes([("Dockerfile", b"\0" * (20 * 1024 * 1024))])
    assert len(bomb) < 100_000
    with pytest.raises(ProjectTooLarge):
        from_archive(bomb)
    # a lying header (declared small, inflates big) is caught while reading
    data = bytearray(zip_bytes([("Dockerfile", b"F" * 5_000_000)]))
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        at = data.find(sig)
        size_at = at + (22 if sig == b"PK\x03\x04" else 24)
        data[size_at : size_at + 4] = (100).to_bytes(4, "little")
    with pytest.raises((ProjectTooLarge, ProjectInputError)):
        from_archive(bytes(data))


def test_gzip_tar_bomb_is_refused():
    info = tarfile.TarInfo("big.bin")
    info.size = 24 * 1024 * 1024
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.addfile(info, _Zeros(info.size))
    with pytest.raises(ProjectTooLarge):
        from_archive(buffer.getvalue(), Limits(inflated_bytes=16 * 1024 * 1024))


class _Zeros(io.RawIOBase):
    def __init__(self, size):
        self.left = size

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.left)
        buffer[:n] = b"\0" * n
        self.left -= n
        return n


def test_traversal_and_absolute_members_are_refused():
    with pytest.raises(ProjectInputError, match=r"\.\."):
        from_archive(zip_bytes([("../../etc/Dockerfile", "FROM a\n")]))
    info = tarfile.TarInfo("/abs/Dockerfile")
    info.size = 7
    with pytest.raises(ProjectInputError, match="absolute"):
        from_archive(tar_bytes([(info, b"FROM a\n")]))


def test_symlinks_are_never_followed(tmp_path):
    link = tarfile.TarInfo("Dockerfile.evil")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    real = tarfile.TarInfo("Dockerfile")
    real.size = 12
    assert from_archive(tar_bytes([(link, None), (real, b"FROM alpine\n")])) == {
        "Dockerfile": "FROM alpine\n"
    }
    # zip symlink entry (mode in external_attr)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entry = zipfile.ZipInfo("x.Dockerfile")
        entry.external_attr = 0o120777 << 16
        archive.writestr(entry, "/etc/passwd")
        archive.writestr("Dockerfile", "FROM alpine\n")
    assert from_archive(buffer.getvalue()) == {"Dockerfile": "FROM alpine\n"}
    # a directory with a symlinked Dockerfile and a symlinked folder
    (tmp_path / "Dockerfile").write_text("FROM alpine\n")
    secret = tmp_path.parent / f"{tmp_path.name}-outside"
    secret.mkdir()
    (secret / "Dockerfile").write_text("FROM secret\n")
    os.symlink(secret / "Dockerfile", tmp_path / "other.Dockerfile")
    os.symlink(secret, tmp_path / "linked")
    assert from_directory(tmp_path) == {"Dockerfile": "FROM alpine\n"}


def many_entries_zip(count: int) -> bytes:
    """A real zip of ``count`` empty stored files, packed directly (zipfile takes seconds for 100k)."""
    local, central = [], []
    offset = 0
    for n in range(count):
        name = f"f{n}".encode()
        header = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name
        central.append(
            struct.pack(
                "<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, offset
            )
            + name
        )
        local.append(header)
        offset += len(header)
    directory = b"".join(central)
    end = struct.pack(
        "<4s4H2IH", b"PK\x05\x06", 0, 0, count & 0xFFFF, count & 0xFFFF, len(directory), offset, 0
    )
    return b"".join(local) + directory + end


def test_many_entries_zip_is_a_real_zip():
    with zipfile.ZipFile(io.BytesIO(many_entries_zip(3))) as archive:
        assert archive.namelist() == ["f0", "f1", "f2"]


def test_hundred_thousand_entries_are_refused_fast():
    data = many_entries_zip(100_000)
    started = time.perf_counter()
    with pytest.raises(ProjectTooLarge, match="entries"):
        from_archive(data)
    assert time.perf_counter() - started < 1.0
    members = [(tarfile.TarInfo(f"f{n}"), b"") for n in range(101)]
    with pytest.raises(ProjectTooLarge, match="entries"):
        from_archive(tar_bytes(members, "w"), Limits(entries=100))


def test_not_an_archive_and_mapping_checks():
    with pytest.raises(ProjectInputError, match="not an archive"):
        from_archive(b"hello")
    with pytest.raises(ProjectInputError):
        from_mapping({"../Dockerfile": "FROM a"})
    with pytest.raises(ProjectInputError):
        from_mapping({"Dockerfile": 3})
    with pytest.raises(ProjectTooLarge):
        from_mapping({f"{n}.Dockerfile": "FROM a\n" for n in range(300)})
    with pytest.raises(ProjectTooLarge):
        from_mapping({"Dockerfile": "#" * (2 * 1024 * 1024)})


def test_project_core_does_not_import_upper_layers():
    from test_layering import FORBIDDEN, PACKAGE, imported_modules

    for path in [*sorted((PACKAGE / "project").glob("*.py")), PACKAGE / "contexts.py"]:
        bad = sorted(m for m in imported_modules(path) if m.startswith(FORBIDDEN) or m == "webapp.cli")
        assert not bad, f"{path.name} imports {bad}"


def test_deep_nesting_and_big_bake_files_are_refused_before_parsing():
    files = {
        "compose.yaml": "services: " + "[" * 100_000,  # libyaml would overflow its C stack
        "docker-bake.json": "[" * 30_000 + "]" * 30_000,
        "a/docker-bake.hcl": 'target "a" {\n' + "  # padding\n" * 7000 + "}\n",
        "Dockerfile": "FROM alpine\n",
    }
    started = time.perf_counter()
    data = analyze_project(files).to_dict()
    assert time.perf_counter() - started < 5
    codes = {d["path"]: d["code"] for d in data["diagnostics"]}
    assert codes == {
        "compose.yaml": "compose-too-deep",
        "docker-bake.json": "bake-too-deep",
        "a/docker-bake.hcl": "bake-too-large",
    }


def test_bake_budget_over_several_files():
    text = 'target "t" {\n' + "  # padding\n" * 4000 + "}\n"  # ~48 KiB, under the per-file limit
    files = {f"{n}/docker-bake.hcl": text for n in range(4)} | {"Dockerfile": "FROM alpine\n"}
    data = analyze_project(files).to_dict()
    skipped = [d["path"] for d in data["diagnostics"] if d["code"] == "too-many-definitions"]
    assert skipped == ["2/docker-bake.hcl", "3/docker-bake.hcl"]


def test_doubling_variables_stay_bounded():
    script = "A=x\n" + "A=$A$A\n" * 200 + "docker build -t $A .\n"
    bake = 'variable "V0" {\n  default = "x"\n}\n' + "".join(
        f'variable "V{n}" {{\n  default = "${{V{n - 1}}}${{V{n - 1}}}"\n}}\n' for n in range(1, 60)
    )
    bake += 'target "default" {\n  tags = ["${V59}"]\n}\n'
    started = time.perf_counter()
    data = analyze_project({"build.sh": script, "docker-bake.hcl": bake, "Dockerfile": "FROM a\n"}).to_dict()
    assert time.perf_counter() - started < 5
    builds = {b["kind"]: b for b in data["builds"]}
    assert builds["script"]["tags"] == [] and builds["script"]["unresolved"]
    assert builds["bake-target"]["tags"] == [] and builds["bake-target"]["unresolved"]


def test_builds_sharing_options_share_one_analysis(monkeypatch):
    import webapp.project.core as core

    calls = []
    monkeypatch.setattr(core, "analyze", lambda text, **kw: calls.append(kw) or analyze(text, **kw))
    bake = "".join(f'target "t{n}" {{\n  tags = ["img:{n}"]\n}}\n' for n in range(50))
    bake += 'target "other" {\n  args = { A = "1" }\n}\n'
    project = analyze_project({"docker-bake.hcl": bake, "Dockerfile": "FROM alpine\n"})
    assert len(project.definitions.builds) == 51
    assert len(calls) == 2


def test_script_forms_subshell_create_buildx_and_makefile():
    files = {
        "scripts/build.sh": (
            "#!/usr/bin/env bash\nset -euo pipefail\nIMAGE=example/tool\n"
            "docker buildx build \\\n  --build-context base=docker-image://debian:12 \\\n"
            '  -t "$IMAGE:build" -f ../docker/Dockerfile.build ..  # the builder\n'
            'id=$(docker create "$IMAGE:build")\n'
            'docker cp "$id":/out/tool ../dist/tool && docker rm "$id"\n'
            "docker build -t $IMAGE:latest -f ../docker/Dockerfile ..\n"
        ),
        "docker/Dockerfile.build": "FROM base\nRUN make /out/tool\n",
        "docker/Dockerfile": "FROM scratch\nCOPY dist/tool /usr/bin/\n",
        "Makefile": "image:\n\t@docker build -t example/other -f other.Dockerfile .\n",
        "other.Dockerfile": "FROM example/tool:latest\n",
    }
    project = analyze_project(files)
    data = project.to_dict()
    builds = {b["name"]: b for b in data["builds"]}
    first = builds["scripts/build.sh:4"]
    assert first["context"] == "." and first["dockerfile"] == "docker/Dockerfile.build"  # -f from the cwd
    assert first["tags"] == ["example/tool:build"] and first["contexts"] == {
        "base": "docker-image://debian:12"
    }
    assert builds["Makefile:2"]["dockerfile"] == "other.Dockerfile"
    (copy,) = links_of(project, "copy-out")
    assert copy["to"] == {"path": "docker/Dockerfile", "stage": "stage-0", "build": "scripts/build.sh:9",
                          "file": "dist/tool", "line": 2}  # fmt: skip
    (image,) = links_of(project, "image")
    assert image["from"]["path"] == "docker/Dockerfile" and image["to"]["path"] == "other.Dockerfile"
    (converted,) = data["conversions"]
    assert "COPY --from=build /out/tool /usr/bin/\n" in converted["dockerfile"]  # same name: same dest
    assert "FROM base AS build" in converted["dockerfile"]
    # the builder's named context goes with the converted file, and its graph uses it
    assert converted["build_contexts"] == {"base": "docker-image://debian:12"}
    assert converted["graph"]["stages"][0]["base"]["image"] == "docker.io/library/debian:12"


def test_conversion_keeps_directives_and_meta_args_first():
    files = {
        "Dockerfile.build": "# syntax=docker/dockerfile:1\nARG GO=1.22\nFROM golang:${GO} AS compile\n"
        "RUN go build -o /app\n",
        "Dockerfile": "# syntax=docker/dockerfile:1\nARG BASE=alpine:3.20\nFROM ${BASE}\n"
        "COPY --chown=1000 app /srv/\n",
        "build.sh": "docker build -t b -f Dockerfile.build .\ndocker create --name c b\n"
        "docker cp c:/app ./app\ndocker build -t final .\n",
    }
    (converted,) = analyze_project(files).to_dict()["conversions"]
    text = converted["dockerfile"]
    assert text.startswith("# syntax=docker/dockerfile:1\n# Generated from build.sh")
    assert text.count("# syntax") == 1
    assert text.index("ARG BASE") < text.index("FROM golang") and text.index("ARG GO") < text.index(
        "FROM golang"
    )
    assert converted["stage"] == "compile"  # the stage keeps its own name
    assert "COPY --from=compile --chown=1000 /app /srv/" in text
    graph = converted["graph"]
    assert [s["base"]["resolved"] for s in graph["stages"]] == ["golang:1.22", "alpine:3.20"]
    assert not [d for d in graph["diagnostics"] if d["severity"] != "info"]


def test_paths_leaving_the_project_are_unresolved():
    compose = "services:\n  a:\n    build:\n      context: ../elsewhere\n  b:\n    build:\n      context: .\n"
    compose += "      dockerfile: /abs/Dockerfile\n"
    data = analyze_project({"compose.yaml": compose, "Dockerfile": "FROM alpine\n"}).to_dict()
    builds = {b["name"]: b for b in data["builds"]}
    assert builds["a"]["context"] is None and "outside" in builds["a"]["unresolved"][0]
    assert builds["b"]["dockerfile"] is None and "outside" in builds["b"]["unresolved"][0]


def test_bake_local_platform_matrix_and_inline_are_handled():
    bake = (
        'target "default" {\n  platforms = ["local"]\n}\n'
        'target "m" {\n  name = "m-${item}"\n  matrix = {\n    item = ["a", "b"]\n  }\n}\n'
        'target "inline" {\n  dockerfile-inline = <<EOT\nFROM alpine\nRUN echo $${HOME}\nEOT\n}\n'
    )
    data = analyze_project({"docker-bake.hcl": bake, "Dockerfile": "FROM alpine\n"}).to_dict()
    builds = {b["name"]: b for b in data["builds"]}
    assert data["files"][0]["graph"]["platform"] == "linux/amd64"
    assert any(u.startswith("matrix") for u in builds["m"]["unresolved"])
    assert builds["inline"]["dockerfile"] == "docker-bake.hcl#inline"
    files = {f["path"]: f for f in data["files"]}
    inline = files["docker-bake.hcl#inline"]["graph"]
    assert inline["stages"][0]["instructions"][0]["text"] == "RUN echo ${HOME}"  # $${ is bake's escape
    compose = "services:\n  web:\n    build:\n      dockerfile_inline: |\n        FROM nginx\n"
    data = analyze_project({"compose.yaml": compose, "Dockerfile": "FROM alpine\n"}).to_dict()
    files = {f["path"]: f for f in data["files"]}
    assert files["compose.yaml#web"]["graph"]["stages"][0]["base"]["resolved"] == "nginx"
    assert [link["to"]["path"] for link in data["links"]] == ["compose.yaml#web"]


def test_script_working_directory_follows_cd_and_script_dir():
    script = (
        'ROOT="$(cd "$(dirname "$0")/.." && pwd)"\n'
        'docker build -t app:base -f "$ROOT/docker/base.Dockerfile" "$ROOT"\n'
        "cd ../web\n"
        "docker build -t app:web .\n"
        "(cd /tmp && docker build -t lost .)\n"
        "docker build -t app:web2 -f Dockerfile .\n"
        "cd $SOMEWHERE\n"
        "docker build -t app:unknown .\n"
    )
    make = "IMAGE ?= app/make\nDIR := web\nbuild:\n\tdocker build -t $(IMAGE) $(DIR)\n"
    make += "\tcd web && docker build -t x .\n\tdocker build -t y .\n"
    files = {
        "scripts/build.sh": script,
        "Makefile": make,
        "docker/base.Dockerfile": "FROM alpine\n",
        "web/Dockerfile": "FROM app:base\n",
    }
    builds = {b["tags"][0]: b for b in analyze_project(files).to_dict()["builds"]}
    assert (builds["app:base"]["context"], builds["app:base"]["dockerfile"]) == (
        ".",
        "docker/base.Dockerfile",
    )
    assert builds["app:web"]["context"] == "web"
    assert builds["lost"]["context"] is None  # /tmp is outside the project
    assert builds["app:web2"]["dockerfile"] == "web/Dockerfile"  # the subshell's cd did not last
    assert builds["app:unknown"]["context"] is None and "not known" in builds["app:unknown"]["unresolved"][0]
    assert builds["app/make"]["context"] == "web"  # make variables substituted
    assert builds["x"]["context"] == "web" and builds["y"]["context"] == "."  # each recipe line: own shell


def test_compose_override_file_merges_into_the_base_service():
    base = (
        "services:\n  web:\n    build:\n      context: web\n      args:\n        A: '1'\n    image: app/web\n"
    )
    override = "services:\n  web:\n    build:\n      target: dev\n      args:\n        B: '2'\n"
    override += "  db:\n    image: postgres\n"
    files = {
        "compose.yaml": base,
        "compose.override.yaml": override,
        "web/Dockerfile": "FROM alpine AS dev\nFROM alpine\n",
    }
    data = analyze_project(files).to_dict()
    (web,) = data["builds"]
    assert (web["source"], web["context"], web["target"]) == ("compose.yaml", "web", "dev")
    assert web["args"] == {"A": "1", "B": "2"} and web["tags"] == ["app/web"]
    assert [t["name"] for t in data["targets"]] == ["web"]


def test_bake_override_file_merges_targets():
    base = 'group "default" {\n  targets = ["app"]\n}\n'
    base += 'target "app" {\n  args = { A = "1" }\n  tags = ["a:1"]\n}\n'
    override = 'target "app" {\n  args = { B = "2" }\n  tags = ["a:2"]\n  target = "final"\n}\n'
    files = {
        "docker-bake.hcl": base,
        "docker-bake.override.hcl": override,
        "Dockerfile": "FROM alpine AS final\n",
    }
    (app,) = analyze_project(files).to_dict()["builds"]
    assert (app["source"], app["args"], app["tags"], app["target"]) == (
        "docker-bake.hcl",
        {"A": "1", "B": "2"},
        ["a:2"],
        "final",
    )


def test_bake_files_of_a_folder_are_one_definition_merged_before_inherits():
    """buildx merges the set's files first, then applies inherits: an override of a parent
    reaches every child, a child may inherit from another file, variables are shared."""
    base = (
        'variable "TAG" {\n  default = "dev"\n}\n'
        'variable "GO" {\n  default = null\n}\n'
        'target "_common" {\n  args = { A = "base", GO = GO }\n}\n'
        'target "app" {\n  inherits = ["_common"]\n  tags = ["app:${TAG}"]\n}\n'
    )
    override = (
        'variable "TAG" {\n  default = "release"\n}\n'  # a later definition replaces the default
        'target "_common" {\n  args = { A = "override" }\n}\n'
        'target "tool" {\n  inherits = ["app"]\n  dockerfile = "tool.Dockerfile"\n}\n'
    )
    files = {
        "docker-bake.override.hcl": override,
        "docker-bake.hcl": base,
        "Dockerfile": "FROM alpine\n",
        "tool.Dockerfile": "FROM alpine\n",
    }
    project = analyze_project(files)
    data = project.to_dict()
    builds = {b["name"]: b for b in data["builds"]}
    assert builds["app"]["args"] == {"A": "override"}  # GO is null: left out, as buildx does
    assert builds["app"]["tags"] == ["app:release"]
    assert builds["tool"]["source"] == "docker-bake.override.hcl"
    assert builds["tool"]["args"] == {"A": "override"} and builds["tool"]["tags"] == ["app:release"]
    inherits = {
        (link["from"]["path"], link["to"]["path"], link["line"]) for link in links_of(project, "inherits")
    }
    assert ("docker-bake.hcl", "docker-bake.override.hcl", 8) in inherits  # tool <- app, across files
    variables = {v["name"]: v for v in data["variables"]}
    assert (variables["TAG"]["path"], variables["TAG"]["value"]) == ("docker-bake.override.hcl", "release")
    assert (variables["GO"]["value"], variables["GO"]["from"]) == (None, "null")
    # the user's values win over the defaults (buildx: --var or the environment)
    given = analyze_project(files, variables={"TAG": "v2", "GO": "1.23"}).to_dict()
    builds = {b["name"]: b for b in given["builds"]}
    assert builds["app"]["tags"] == ["app:v2"] and builds["app"]["args"] == {"A": "override", "GO": "1.23"}
    assert {v["name"]: v["from"] for v in given["variables"]} == {"TAG": "user", "GO": "user"}
    assert not [d for d in given["diagnostics"] if d["code"] == "bake-variable"]
    # named files are read in the order given (buildx -f): the base file now wins
    swapped = analyze_project(files, bake_files=["docker-bake.override.hcl", "docker-bake.hcl"]).to_dict()
    builds = {b["name"]: b for b in swapped["builds"]}
    assert builds["app"]["args"] == {"A": "base"} and builds["app"]["tags"] == ["app:dev"]
    with pytest.raises(ProjectInputError, match="not in the project"):
        analyze_project(files, bake_files=["nope.hcl"])


def test_a_null_never_replaces_an_inherited_argument_and_hcl_files_are_sniffed():
    files = {
        "build/vars.hcl": 'variable "V" {}\nvariable "N" {\n  type = string\n}\n',
        "build/targets.hcl": 'target "p" {\n  args = { X = "1" }\n}\n'
        'target "c" {\n  inherits = ["p"]\n  context = ".."\n  args = { X = N, Y = V }\n}\n',
        "main.tf.hcl": 'resource "x" "y" {\n}\ntarget "t" {}\n',  # Terraform blocks: not bake
        "Dockerfile": "FROM alpine\n",
    }
    data = analyze_project(files).to_dict()
    (c,) = [b for b in data["builds"] if b["name"] == "c"]
    assert c["args"] == {"X": "1", "Y": ""} and c["dockerfile"] == "Dockerfile"
    kinds = {f["path"]: f["kind"] for f in data["files"]}
    assert kinds["build/vars.hcl"] == kinds["build/targets.hcl"] == "bake-hcl"
    assert kinds["main.tf.hcl"] is None


def test_compose_interpolation_reads_the_users_variables():
    compose = (
        "services:\n  web:\n    build:\n      context: .\n      args:\n"
        "        A: ${MODE:-dev}\n        B: ${MODE-dev}\n    image: app:${TAG}\n"
    )
    files = {"compose.yaml": compose, "Dockerfile": "FROM alpine\n"}
    (web,) = analyze_project(files).to_dict()["builds"]
    assert web["tags"] == [] and any("${TAG}" in u for u in web["unresolved"])
    (web,) = analyze_project(files, variables={"TAG": "v1", "MODE": ""}).to_dict()["builds"]
    assert web["tags"] == ["app:v1"] and web["args"] == {"A": "dev", "B": ""}  # :- also replaces empty


def test_hcl_sniffing_and_parse_variables_refusals():
    from webapp.project import parse_variables
    from webapp.project.bake import looks_like_bake

    started = time.perf_counter()
    for text in ("a " * 100_000, "a" + " " * 200_000 + "x", 'a "' * 70_000, "a-" * 100_000):
        assert not looks_like_bake(text)
    assert time.perf_counter() - started < 2
    assert looks_like_bake('variable "X" {}\nfunction "f" {\n  params = []\n  result = 1\n}\n')
    assert not looks_like_bake('job "web" {\n}\ntarget "x" {}\n')  # a Nomad job
    assert parse_variables(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
    for bad in (["A"], {"1A": "x"}, {"A": "x\ny"}, {"A": 1}, "A=1", {f"V{n}": "" for n in range(65)}):
        with pytest.raises(OptionError):
            parse_variables(bad)


def test_bake_reads_the_folders_compose_file_first():
    """buildx's default set holds compose.yaml: a bake target of a service's name is merged onto
    the service, and a target may inherit from a service."""
    compose = (
        "services:\n  web:\n    build:\n      context: web\n      target: prod\n"
        "      args:\n        A: '1'\n    image: app/web\n  db:\n    image: postgres\n"
    )
    bake = (
        'target "web" {\n  platforms = ["linux/arm64"]\n  args = { B = "2" }\n}\n'
        'target "web-debug" {\n  inherits = ["web"]\n  target = "debug"\n}\n'
    )
    files = {
        "compose.yaml": compose,
        "docker-bake.hcl": bake,
        "web/Dockerfile": "FROM alpine AS prod\nFROM alpine AS debug\n",
    }
    project = analyze_project(files)
    data = project.to_dict()
    builds = {(b["kind"], b["name"]): b for b in data["builds"]}
    # web is one build, bake's (compose's attributes under the bake file's); db builds nothing
    assert set(builds) == {("bake-target", "web"), ("bake-target", "web-debug")}
    web = builds[("bake-target", "web")]
    assert (web["source"], web["context"], web["dockerfile"], web["target"]) == (
        "docker-bake.hcl",
        "web",
        "web/Dockerfile",
        "prod",
    )
    assert web["args"] == {"A": "1", "B": "2"} and web["platforms"] == ["linux/arm64"]
    assert web["tags"] == ["app/web"]
    debug = builds[("bake-target", "web-debug")]
    assert debug["target"] == "debug" and debug["args"] == {"A": "1", "B": "2"}
    assert [t["name"] for t in data["targets"]] == ["web", "web-debug"]
    # a context from compose's additional_contexts keeps compose's file, line and text
    with_context = compose.replace(
        "      target: prod\n",
        "      target: prod\n      additional_contexts:\n        base: docker-image://debian\n",
    )
    uses = {"compose.yaml": with_context, "web/Dockerfile": "FROM base AS prod\nFROM alpine AS debug\n"}
    alt = analyze_project({**files, **uses}).to_dict()
    named = [x for x in alt["links"] if x["kind"] == "context-image"]
    assert len(named) == 2  # web's and web-debug's (inherited), each into FROM base AS prod
    for ctx in named:
        assert ctx["via"] == {"path": "compose.yaml", "text": "base: docker-image://debian"}
        assert ctx["line"] == 7 and ctx["to"]["stage"] == "prod"
    # the build link names the line of compose.yaml that gives the Dockerfile: its build key
    (link,) = [x for x in data["links"] if x["kind"] == "build" and x["from"].get("target") == "web"]
    assert link["to"] == {"path": "web/Dockerfile", "stage": "prod"}
    assert (link["via"]["path"], link["line"], link["via"]["text"]) == ("compose.yaml", 3, "build:")
    # named with -f, the compose file joins the set wherever it is; unnamed, it does not
    files["ci/compose.yaml"] = compose.replace("context: web", "context: ../web").replace("prod", "debug")
    data = analyze_project(files, bake_files=["docker-bake.hcl", "ci/compose.yaml"]).to_dict()
    (web,) = [b for b in data["builds"] if b["name"] == "web" and b["kind"] == "bake-target"]
    assert (web["kind"], web["target"], web["platforms"]) == ("bake-target", "debug", ["linux/arm64"])
    data = analyze_project(files, bake_files=["docker-bake.hcl"]).to_dict()
    (web,) = [b for b in data["builds"] if b["name"] == "web" and b["kind"] == "bake-target"]
    assert web["target"] is None and web["args"] == {"B": "2"}
    del files["ci/compose.yaml"]
    # a compose file in a sub-folder is not in the root folder's set
    files["sub/compose.yaml"] = files.pop("compose.yaml").replace("context: web", "context: ../web")
    data = analyze_project(files).to_dict()
    (web,) = [b for b in data["builds"] if b["kind"] == "bake-target" and b["name"] == "web"]
    assert web["target"] is None and web["args"] == {"B": "2"}


def test_bake_conditionals_on_known_values_are_evaluated_the_rest_unresolved():
    bake = (
        'variable "MODE" {\n  default = "dev"\n}\nvariable "EMPTY" {\n  default = null\n}\n'
        'target "default" {\n'
        "  args = {\n"
        '    A = MODE == "dev" ? "debug" : "release"\n'
        '    B = EMPTY != null ? "set-${EMPTY}" : null\n'  # the branch not taken is not evaluated
        '    C = !(MODE != "dev") && true\n'
        "    D = upper(MODE)\n"  # a function: never guessed
        "  }\n"
        '  platforms = MODE == "dev" ? [] : ["linux/amd64", "linux/arm64"]\n'
        '  contexts = MODE == "x" ? { base = "target:b" } : { base = "docker-image://alpine" }\n'
        "}\n"
    )
    files = {"docker-bake.hcl": bake, "Dockerfile": "FROM base\n"}
    (build,) = analyze_project(files).to_dict()["builds"]
    assert build["args"] == {"A": "debug", "C": "true"}
    assert build["platforms"] == [] and build["contexts"] == {"base": "docker-image://alpine"}
    assert build["unresolved"] == ["args.D: ${upper(MODE)}"]
    (build,) = analyze_project(files, variables={"MODE": "prod", "EMPTY": "x"}).to_dict()["builds"]
    assert build["args"] == {"A": "release", "B": "set-x", "C": "false"}
    assert build["platforms"] == ["linux/amd64", "linux/arm64"]


def test_hcl_expression_evaluator_refuses_what_it_does_not_know():
    from webapp.project.hclexpr import Unknown, evaluate

    def variable(name):
        if name == "V":
            return "v"
        raise Unknown(name)

    def same(text):
        return text

    assert evaluate('V == "v" ? [1, "a"] : {}', variable, same) == ["1", "a"]
    assert evaluate('{ "k" = V, j: null }', variable, same) == {"k": "v", "j": None}
    for text in (
        "f(V)",
        "V.x",
        "V[0]",
        "1 + 2",
        "V ==",
        "(V",
        "[for x in V : x]",
        "W",
        '"a" ? 1 : 2',
        '"\\q"',
    ):
        with pytest.raises(Unknown):
            evaluate(text, variable, same)
    deep = "(" * 40 + "V" + ")" * 40
    with pytest.raises(Unknown):
        evaluate(deep, variable, same)
    started = time.perf_counter()
    with pytest.raises(Unknown):
        evaluate("V == " * 5000 + "V", variable, same)  # past the token limit, refused at once
    assert time.perf_counter() - started < 1

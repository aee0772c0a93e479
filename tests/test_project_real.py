"""Real multi-file projects from public repositories (tests/data/projects/SOURCES.md), through the
core, the CLI and ``POST /api/project``.

Every expectation is read off the vendored files themselves: which target or service builds which
Dockerfile and stage, and the lines of the bake and compose files that tie files together (found
in the files by their text, so a test states what it looks for).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from webapp.cli import main
from webapp.project import analyze_project, from_directory
from webapp.web import create_app

PROJECTS = Path(__file__).resolve().parent / "data" / "projects"
BUILDX = PROJECTS / "buildx"
DATALENS = PROJECTS / "datalens-backend"
COMPOSE = PROJECTS / "awesome-compose"
BUILDKIT = PROJECTS / "buildkit"


def line_of(folder: Path, path: str, needle: str, after: str | None = None) -> int:
    """1-based line of the first line of ``path`` holding ``needle`` (after the line holding ``after``)."""
    lines = (folder / path).read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if after in line) if after else 0
    return next(n for n in range(start, len(lines)) if needle in lines[n]) + 1


def files_of(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def zip_of(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files_of(folder).items():
            archive.writestr(f"repo/{name}", text)
    return buffer.getvalue()


def by_name(data: dict) -> dict[str, dict]:
    return {b["name"]: b for b in data["builds"]}


def build_link(data: dict, name: str) -> dict:
    (link,) = [
        link
        for link in data["links"]
        if link["kind"] == "build" and name in (link["from"].get("target"), link["from"].get("service"))
    ]
    return link


def stage_of(data: dict, path: str, index: int) -> dict:
    graph = next(f for f in data["files"] if f["path"] == path)["graph"]
    return graph["stages"][index]


# -- docker/buildx: one bake file, groups, inherits chains, null variables ---------------------------


def test_buildx_default_group_inherits_and_null_variables():
    data = analyze_project(from_directory(BUILDX)).to_dict()
    # group "default" { targets = ["binaries"] }; target "binaries" builds the Dockerfile's binaries stage
    assert data["selected"] == "default" and data["selected_builds"] == ["binaries"]
    builds = by_name(data)
    binaries = builds["binaries"]
    assert (binaries["dockerfile"], binaries["target"], binaries["platforms"]) == (
        "Dockerfile",
        "binaries",
        ["local"],
    )
    link = build_link(data, "binaries")
    assert link["to"] == {"path": "Dockerfile", "stage": "binaries"}
    # no dockerfile attribute: the link's line is the target block's own
    assert link["line"] == line_of(BUILDX, "docker-bake.hcl", 'target "binaries" {')
    # GO_VERSION's default is null: `GO_VERSION = GO_VERSION` in _common leaves the argument out,
    # BUILDKIT_CONTEXT_KEEP_GIT_DIR = 1 is inherited by every target
    assert binaries["args"] == {"BUILDKIT_CONTEXT_KEEP_GIT_DIR": "1"}
    variables = {v["name"]: v for v in data["variables"]}
    assert (variables["GO_VERSION"]["value"], variables["GO_VERSION"]["from"]) == (None, "null")
    assert variables["DOCS_FORMATS"]["value"] == "md"
    note = next(
        d for d in data["diagnostics"] if d["code"] == "bake-variable" and "GO_VERSION" in d["message"]
    )
    assert note["line"] == line_of(BUILDX, "docker-bake.hcl", 'variable "GO_VERSION"')
    assert note["severity"] == "info"
    # image-local -> image -> (meta-helper, binaries): tags from meta-helper, stage from binaries
    image_local = builds["image-local"]
    assert image_local["tags"] == ["docker/buildx-bin:local"] and image_local["target"] == "binaries"
    inherits = {
        (link["from"]["target"], link["to"]["target"]): link
        for link in data["links"]
        if link["kind"] == "inherits"
    }
    image_line = line_of(BUILDX, "docker-bake.hcl", "inherits", after='target "image" {')
    assert inherits[("meta-helper", "image")]["line"] == inherits[("binaries", "image")]["line"] == image_line
    assert inherits[("meta-helper", "image")]["via"]["text"] == 'inherits = ["meta-helper", "binaries"]'
    assert ("image", "image-local") in inherits and ("binaries-cross", "release") in inherits
    # validate-docs: FORMATS = DOCS_FORMATS, the docs Dockerfile's validate stage
    docs = builds["validate-docs"]
    assert docs["args"]["FORMATS"] == "md" and docs["dockerfile"] == "hack/dockerfiles/docs.Dockerfile"
    assert build_link(data, "validate-docs")["to"] == {
        "path": "hack/dockerfiles/docs.Dockerfile",
        "stage": "validate",
    }
    # lint has no target: the last stage of lint.Dockerfile (an unnamed FROM lint)
    assert builds["lint"]["target"] is None
    lint = next(f for f in data["files"] if f["path"] == "hack/dockerfiles/lint.Dockerfile")["graph"]
    assert lint["stages"][lint["target"]]["base"]["text"] == "lint"
    # platforms = GOLANGCI_LINT_MULTIPLATFORM != "" ? [15 platforms] : [] with the default "":
    # the conditional is evaluated on the variable's value
    assert builds["lint"]["platforms"] == [] and not builds["lint"]["unresolved"]
    multi = analyze_project(from_directory(BUILDX), variables={"GOLANGCI_LINT_MULTIPLATFORM": "1"})
    lint = next(b for b in multi.to_dict()["builds"] if b["name"] == "lint")
    assert len(lint["platforms"]) == 15 and "windows/arm64" in lint["platforms"]


def test_buildx_the_validate_group_and_a_given_variable():
    data = analyze_project(
        from_directory(BUILDX), project_target="validate", variables={"GO_VERSION": "1.23"}
    ).to_dict()
    # group "validate" lists five targets over three Dockerfiles
    assert data["selected_builds"] == [
        "lint",
        "lint-gopls",
        "validate-golangci",
        "validate-vendor",
        "validate-docs",
    ]
    builds = by_name(data)
    assert builds["lint-gopls"]["target"] == "gopls-analyze"  # inherits lint, own target
    assert builds["lint-gopls"]["args"]["GOLANGCI_FROM_SOURCE"] == "true"  # from lint
    assert builds["validate-vendor"]["args"]["GO_VERSION"] == "1.23"
    assert {v["name"]: v["from"] for v in data["variables"]}["GO_VERSION"] == "user"
    files = {f["path"]: f for f in data["files"]}
    assert files["hack/dockerfiles/authors.Dockerfile"]["built_stages"] == []  # no validate target uses it
    assert files["hack/dockerfiles/vendor.Dockerfile"]["built_stages"]
    vendor = files["hack/dockerfiles/vendor.Dockerfile"]["graph"]
    assert vendor["stages"][0]["base"]["resolved"].startswith("golang:1.23-alpine")


# -- datalens-tech/datalens-backend: seven bake files read as one --------------------------------


def test_datalens_target_contexts_across_bake_files():
    data = analyze_project(from_directory(DATALENS), project_target="dl_control_api").to_dict()
    builds = by_name(data)
    api = builds["dl_control_api"]
    # context = "${DL_B_PROJECT_ROOT}/app/dl_control_api", the variable ".." in _bake_vars_functions.hcl,
    # read from docker_build/ (where run-project-bake runs bake)
    assert (api["source"], api["context"], api["dockerfile"]) == (
        "docker_build/bake_apps.hcl",
        "app/dl_control_api",
        "app/dl_control_api/Dockerfile",
    )
    variable = next(v for v in data["variables"] if v["name"] == "DL_B_PROJECT_ROOT")
    assert (variable["path"], variable["value"]) == ("docker_build/_bake_vars_functions.hcl", "..")
    # the target: contexts name targets of another file; selecting the app pulls them in
    assert data["selected_builds"][0] == "dl_control_api"
    assert {"base_noble_db", "base_noble", "base_run", "dl_src_lib"} <= set(data["selected_builds"])
    assert builds["base_noble_db"]["source"] == "docker_build/bake_base.hcl"
    links = [link for link in data["links"] if link["kind"] == "context-target"]

    def link(name, to_path):
        return next(x for x in links if x["name"] == name and x["to"]["path"] == to_path)

    # FROM bake_ctx_base_img AS build <- target base_noble_db, its Dockerfile in another folder
    base = link("bake_ctx_base_img", "app/dl_control_api/Dockerfile")
    assert base["from"] == {
        "path": "docker_build/target_base_noble_db/Dockerfile",
        "stage": "stage-0",
        "target": "base_noble_db",
    }
    assert base["to"]["stage"] == "build"
    assert base["line"] == line_of(
        DATALENS, "docker_build/bake_apps.hcl", "bake_ctx_base_img", after='"dl_control_api"'
    )
    assert base["via"]["path"] == "docker_build/bake_apps.hcl"
    # FROM bake_ctx_run AS runtime <- target base_run
    run = link("bake_ctx_run", "app/dl_control_api/Dockerfile")
    assert (
        run["from"]["path"] == "docker_build/target_base_run/Dockerfile" and run["to"]["stage"] == "runtime"
    )
    # and base_noble_db's own FROM bake_ctx_base_img <- base_noble, within bake_base.hcl
    noble = link("bake_ctx_base_img", "docker_build/target_base_noble_db/Dockerfile")
    assert noble["from"]["target"] == "base_noble"
    assert noble["line"] == line_of(DATALENS, "docker_build/bake_base.hcl", '"target:base_noble"')
    # the app's graph was analysed with those contexts
    assert stage_of(data, "app/dl_control_api/Dockerfile", 0)["base"]["resolved"] == "target:base_noble_db"
    # dl_src_lib's Dockerfile is a user function's result: unresolved, so its link has no file
    assert link("bake_ctx_src_lib", "app/dl_control_api/Dockerfile")["from"]["path"] is None
    assert any("dl_dockerfile_prepare_src" in u for u in builds["dl_src_lib"]["unresolved"])


def test_datalens_arguments_from_variables_and_the_users_values():
    # args = { BASE_IMG = "${BASE_LINUX}" } and the Dockerfile's FROM $BASE_IMG
    path = "docker_build/target_dl_base_linux_w_db_bin_dependencies/Dockerfile"
    data = analyze_project(from_directory(DATALENS)).to_dict()
    assert by_name(data)["dl_base_linux_w_db_bin_dependencies"]["args"] == {"BASE_IMG": "ubuntu:24.04"}
    assert stage_of(data, path, 0)["base"]["resolved"] == "ubuntu:24.04"
    given = analyze_project(from_directory(DATALENS), variables={"BASE_LINUX": "ubuntu:22.04"}).to_dict()
    assert stage_of(given, path, 0)["base"]["resolved"] == "ubuntu:22.04"
    # base_ci: args = { BASE_IMG = "bake_ctx_base_img" } makes FROM $BASE_IMG the named context
    (ci,) = [
        x
        for x in data["links"]
        if x["kind"] == "context-target"
        and x["to"]["path"] == "docker_build/target_base_ci/Dockerfile"
        and x["name"] == "bake_ctx_base_img"
    ]
    assert ci["from"]["target"] == "dl_base_linux_w_db_bin_dependencies"
    assert ci["line"] == line_of(DATALENS, "docker_build/bake_ci.hcl", "bake_ctx_base_img =")


# -- docker/awesome-compose: a compose file --------------------------------------------------------


def test_awesome_compose_services_targets_and_args():
    data = analyze_project(from_directory(COMPOSE)).to_dict()
    builds = by_name(data)
    assert set(builds) == {"backend", "frontend"}  # db only pulls mariadb
    backend = builds["backend"]
    assert (backend["context"], backend["dockerfile"], backend["target"], backend["args"]) == (
        "react-express-mysql/backend",
        "react-express-mysql/backend/Dockerfile",
        "development",
        {"NODE_ENV": "development"},  # args as a list: - NODE_ENV=development
    )
    link = build_link(data, "frontend")
    assert link["to"] == {"path": "react-express-mysql/frontend/Dockerfile", "stage": "development"}
    assert link["line"] == line_of(COMPOSE, "react-express-mysql/compose.yaml", "build:", after="frontend:")
    files = {f["path"]: f for f in data["files"]}
    # target: development builds the first stage only, not dev-envs nor nginx
    assert files["react-express-mysql/frontend/Dockerfile"]["built_stages"] == [0]
    assert stage_of(data, "react-express-mysql/backend/Dockerfile", 0)["base"]["resolved"] == "node:lts"


# -- moby/buildkit: conditionals on variables, a compose file in a sub-folder ------------------------


def test_buildkit_conditionals_and_a_compose_file_in_another_folder():
    data = analyze_project(from_directory(BUILDKIT)).to_dict()
    builds = by_name(data)
    # tags = [IMAGE_TARGET != null && IMAGE_TARGET != "" ? "moby/buildkit:local-${IMAGE_TARGET}"
    #         : "moby/buildkit:local"], IMAGE_TARGET null by default; image inherits meta-helper
    assert builds["meta-helper"]["tags"] == builds["image"]["tags"] == ["moby/buildkit:local"]
    assert builds["image"]["target"] is None  # target = IMAGE_TARGET, null: the last stage
    assert build_link(data, "image")["to"] == {"path": "Dockerfile", "stage": "buildkit"}
    # contexts = TEST_CONTEXT != TEST_BINARIES_CONTEXT ? {...} : null, both "." by default
    tests = builds["integration-tests"]
    assert tests["contexts"] == {} and tests["target"] == "integration-tests"
    assert "GOBUILDFLAGS" not in tests["args"]  # TEST_COVERAGE == "1" ? "-cover" : null
    # the matrix target is shown unresolved, never expanded by guess
    assert any(u.startswith("matrix") for u in builds["lint"]["unresolved"])
    # hack/composefiles/compose.yaml: context ../.. is the repository, its Dockerfile's last stage
    service = builds["buildkit"]
    assert (service["kind"], service["context"], service["dockerfile"], service["tags"]) == (
        "compose-service",
        ".",
        "Dockerfile",
        ["moby/buildkit:local"],
    )
    link = build_link(data, "buildkit")
    assert link["via"]["path"] == "hack/composefiles/compose.yaml"
    assert link["to"] == {"path": "Dockerfile", "stage": "buildkit"}
    # a binaries context elsewhere makes the conditional give the target: context
    other = analyze_project(
        from_directory(BUILDKIT),
        project_target="integration-tests",
        variables={"TEST_BINARIES_CONTEXT": "hack"},
    ).to_dict()
    assert by_name(other)["integration-tests"]["contexts"] == {
        "binaries": "target:integration-tests-binaries"
    }
    assert other["selected_builds"] == ["integration-tests", "integration-tests-binaries"]
    (named,) = [x for x in other["links"] if x["kind"] == "context-target"]
    assert named["to"] == {"path": "Dockerfile", "stage": "binaries"}
    assert named["line"] == line_of(BUILDKIT, "docker-bake.hcl", '"target:integration-tests-binaries"')


# -- the CLI and the API ----------------------------------------------------------------------------


def test_cli_reads_the_real_projects(capsys, tmp_path):
    assert (
        main(["render", str(DATALENS), "--project-target", "base_noble_db", "--var", "BASE_LINUX=debian:12"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["selected_builds"] == ["base_noble_db", "base_noble"]
    assert {v["name"]: v["value"] for v in data["variables"]}["BASE_LINUX"] == "debian:12"
    # named bake files, in the order run-project-bake gives them
    script = (DATALENS / "docker_build" / "run-project-bake").read_text()
    named = [f"docker_build/{line.strip()}" for line in script.splitlines() if line.strip().endswith(".hcl")]
    assert len(named) == 7
    args = [arg for path in named[:2] for arg in ("--bake-file", path)]  # without bake_apps.hcl
    # exit 1: without bake_ci.hcl no target gives target_base_ci/Dockerfile its BASE_IMG, and
    # alone its FROM $BASE_IMG is blank, which BuildKit refuses
    assert main(["render", str(DATALENS), *args]) == 1
    builds = {b["name"] for b in json.loads(capsys.readouterr().out)["builds"]}
    assert "base_noble" in builds and "dl_control_api" not in builds
    archive = tmp_path / "compose.zip"
    archive.write_bytes(zip_of(COMPOSE))
    assert main(["render", str(archive), "--project-target", "backend"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["selected_builds"] == ["backend"]
    assert build_link(data, "backend")["to"]["path"] == "repo/react-express-mysql/backend/Dockerfile"
    assert main(["render", str(BUILDX), "--var", "nonsense"]) == 2


@pytest.mark.dot
def test_cli_svg_draws_the_cross_file_links(tmp_path):
    out = tmp_path / "datalens.svg"
    assert (
        main(
            ["render", str(DATALENS), "--project-target", "dl_control_api", "--format", "svg", "-o", str(out)]
        )
        == 0
    )
    svg = out.read_text()
    # three target: contexts with a Dockerfile at each end: base_noble_db and base_run into the
    # app, base_noble into base_noble_db (dl_src_* Dockerfiles are function results: no file)
    assert svg.count('class="edge link link-context-target"') == 3
    assert "app/dl_control_api/Dockerfile" in svg and "docker_build/target_base_noble_db/Dockerfile" in svg


@pytest.fixture(scope="module")
def client():
    return create_app({"WARM_DOT": False, "RATE_RENDERS": 0}).test_client()


def test_api_real_projects(client):
    answer = client.post(
        "/api/project",
        json={
            "files": files_of(BUILDX),
            "project_target": "image-local",
            "variables": {"GO_VERSION": "1.23"},
        },
    )
    assert answer.status_code == 200, answer.get_json()
    data = answer.get_json()
    assert data["selected_builds"] == ["image-local"]
    assert by_name(data)["image-local"]["args"] == {
        "BUILDKIT_CONTEXT_KEEP_GIT_DIR": "1",
        "GO_VERSION": "1.23",
    }
    answer = client.post(
        "/api/project?project_target=dl_data_api&var=DL_B_SOURCES_ROOT%3D..%2Fapp",
        data=zip_of(DATALENS),
        content_type="application/zip",
    )
    assert answer.status_code == 200, answer.get_json()
    data = answer.get_json()
    (base,) = [
        x
        for x in data["links"]
        if x["kind"] == "context-target"
        and x["to"]["path"] == "repo/app/dl_data_api/Dockerfile"
        and x["name"] == "bake_ctx_base_img"
    ]
    assert base["from"]["path"] == "repo/docker_build/target_base_noble_db/Dockerfile"
    # DL_B_SOURCES_ROOT moved: contexts = { lib = "${DL_B_SOURCES_ROOT}/lib" } follows it
    assert by_name(data)["dl_src_lib"]["contexts"] == {"lib": "repo/app/lib"}
    uploads = [(io.BytesIO(v.encode()), k) for k, v in files_of(COMPOSE).items()]
    answer = client.post(
        "/api/project",
        data={"files": uploads, "bake_file": "react-express-mysql/compose.yaml"},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200  # bake -f compose.yaml: its services are the targets
    uploads = [(io.BytesIO(v.encode()), k) for k, v in files_of(COMPOSE).items()]
    answer = client.post(
        "/api/project",
        data={"files": uploads, "bake_file": "react-express-mysql/backend/Dockerfile"},
        content_type="multipart/form-data",
    )
    message = answer.get_json()["error"]["message"]
    assert answer.status_code == 400 and "must be .hcl, .json or a compose file" in message
    uploads = [(io.BytesIO(v.encode()), k) for k, v in files_of(COMPOSE).items()]
    answer = client.post("/api/project", data={"files": uploads}, content_type="multipart/form-data")
    assert answer.status_code == 200
    assert {b["name"] for b in answer.get_json()["builds"]} == {"backend", "frontend"}
    bad = client.post("/api/project", json={"files": files_of(COMPOSE), "variables": {"1x": "y"}})
    assert bad.status_code == 400


def test_a_shared_project_keeps_its_variables(client):
    """A stateless project link carries the variables given, and its exports draw with them."""
    answer = client.post(
        "/api/share/stateless",
        json={
            "files": files_of(DATALENS),
            "project_target": "base_noble_db",
            "variables": {"BASE_LINUX": "debian:12"},
        },
    )
    assert answer.status_code == 200, answer.get_json()
    url = answer.get_json()["stateless_url"]
    link = client.get("/api/link/" + url.removeprefix("/d/")).get_json()
    assert link["options"]["variables"] == {"BASE_LINUX": "debian:12"}
    data = client.get(f"{url}.json").get_json()
    assert {v["name"]: (v["value"], v["from"]) for v in data["variables"]}["BASE_LINUX"] == (
        "debian:12",
        "user",
    )

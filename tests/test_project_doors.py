"""Whole projects through the doors: the CLI, ``POST /api/project``, ``build_contexts`` and the drawing."""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from test_project import many_entries_zip

from webapp.cli import main
from webapp.project import analyze_project, from_directory
from webapp.render.project import LINK_COLOUR, project_to_dot
from webapp.web import create_app

PROJECTS = Path(__file__).resolve().parent / "data" / "projects"
BUILDER = PROJECTS / "builder-pattern"


def texts(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def zip_of(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tgz_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            archive.addfile(info, io.BytesIO(text.encode()))
    return buffer.getvalue()


# -- CLI ---------------------------------------------------------------------------------------------


def test_cli_three_files_builder_pattern(capsys, tmp_path):
    paths = [str(BUILDER / n) for n in ("Dockerfile.build", "Dockerfile", "build.sh")]
    assert main(["render", *paths]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [f["path"] for f in data["files"]] == ["Dockerfile", "Dockerfile.build", "build.sh"]
    assert [link["kind"] for link in data["links"]] == ["build", "build", "copy-out"]
    out = tmp_path / "Dockerfile.multistage"
    assert main(["render", str(BUILDER), "--format", "multistage", "-o", str(out)]) == 0
    assert "COPY --from=build /go/src/app/app ./" in out.read_text()


def test_cli_folder_with_project_target_and_one_file(capsys):
    folder = str(PROJECTS / "bake-contexts")
    assert main(["render", folder, "--project-target", "tools"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["selected"] == "tools"
    built = {f["path"]: f["built_stages"] for f in data["files"]}
    assert built["tools.Dockerfile"] == [0] and built["Dockerfile"] == []
    assert main(["render", folder, "--file", "tools.Dockerfile", "--format", "mermaid"]) == 0
    assert capsys.readouterr().out.startswith("%% Dockerfile build graph")
    # the project's own warnings (a tag with ${REGISTRY}) fail it only with --fail-on warning
    assert main(["render", folder, "--fail-on", "warning", "-o", os.devnull]) == 1
    assert main(["render", folder, "--project-target", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown project target 'nope'") and err.count("\n") == 1


def test_cli_archive_and_hostile_archive(tmp_path, capsys):
    good = tmp_path / "repo.zip"
    good.write_bytes(zip_of({f"repo/{k}": v for k, v in texts(PROJECTS / "compose-app").items()}))
    assert main(["render", str(good)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {b["name"] for b in data["builds"]} == {"base", "backend", "frontend"}
    evil = tmp_path / "evil.zip"
    evil.write_bytes(zip_of({"../../Dockerfile": "FROM alpine\n"}))
    assert main(["render", str(evil)]) == 2
    err = capsys.readouterr().err
    assert "'..' is not allowed" in err and err.count("\n") == 1


def test_cli_build_context_on_one_file(tmp_path, capsys):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM base\nRUN true\n")
    assert main(["render", str(dockerfile), "--build-context", "base=docker-image://alpine:3.20"]) == 0
    graph = json.loads(capsys.readouterr().out)
    assert graph["stages"][0]["base"]["image"] == "docker.io/library/alpine:3.20"
    assert main(["render", str(dockerfile), "--build-context", "nonsense"]) == 2
    assert main(["render", str(dockerfile), "--project-target", "x"]) == 2


@pytest.mark.dot
def test_cli_project_svg(tmp_path):
    out = tmp_path / "project.svg"
    assert main(["render", str(PROJECTS / "bake-contexts"), "--format", "svg", "-o", str(out)]) == 0
    svg = out.read_text()
    assert 'class="edge link link-context-target"' in svg
    assert 'id="cluster-file-0"' in svg and "tools.Dockerfile" in svg


# -- the drawing ---------------------------------------------------------------------------------


def test_project_dot_clusters_links_and_greying():
    project = analyze_project(from_directory(PROJECTS / "bake-contexts"))
    dot = project_to_dot(project)
    assert dot.count('subgraph "cluster_file_') == 3
    links = [line for line in dot.splitlines() if 'class="link ' in line]
    assert len(links) == len(project.links)
    built = [line for line in links if "unreachable" not in line]
    assert built and all(LINK_COLOUR in line for line in built)
    # links into what the default group does not build are grey, like the stages
    greyed = [line for line in links if "unreachable" in line]
    assert any("link-image" in line for line in greyed) and not any(LINK_COLOUR in line for line in greyed)
    legend = dot[dot.index('subgraph "cluster_legend"') :]
    assert "named context: another target" in legend and "docker cp" not in legend
    tools = next(line for line in dot.splitlines() if 'label="tools.Dockerfile' in line)
    assert 'class="file unreachable"' in tools  # not built by the default group
    # the named context src is drawn by its link, not as the file's own "build context"
    assert '"f0-context"' not in dot and "context src" in dot


@pytest.mark.dot
def test_hostile_file_names_stay_labels():
    from webapp.render.project import draw_project

    files = {'a"];x[label="y/Dockerfile': "FROM alpine\n", "b\\l/Dockerfile": "FROM alpine\n"}
    project = analyze_project(files)
    svg = draw_project(project, "svg", settings={"WARM_DOT": False}).decode()
    assert "<script" not in svg and svg.count('class="cluster file"') == 2


# -- API -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    return create_app({"WARM_DOT": False, "RATE_RENDERS": 0}).test_client()


def test_api_json_files_builder_pattern(client):
    answer = client.post("/api/project", json={"files": texts(BUILDER)})
    assert answer.status_code == 200
    data = answer.get_json()
    (copy,) = [link for link in data["links"] if link["kind"] == "copy-out"]
    assert copy["via"] == {"path": "build.sh", "text": "docker container cp extract:/go/src/app/app ./app"}
    (conversion,) = data["conversions"]
    assert conversion["from"] == ["Dockerfile.build", "Dockerfile"]
    download = client.post("/api/project", json={"files": texts(BUILDER), "format": "multistage"})
    assert download.headers["Content-Disposition"] == 'attachment; filename="Dockerfile.multistage"'
    assert download.get_data(as_text=True) == conversion["dockerfile"]


def test_api_multipart_files_and_archive(client):
    uploads = [(io.BytesIO(v.encode()), k) for k, v in texts(PROJECTS / "bake-contexts").items()]
    answer = client.post(
        "/api/project",
        data={"files": uploads, "project_target": "tools", "build_context": "src=./elsewhere"},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200, answer.get_json()
    data = answer.get_json()
    assert data["selected_builds"] == ["tools"]
    archive = tgz_of(texts(PROJECTS / "compose-app"))
    answer = client.post(
        "/api/project",
        data={"archive": (io.BytesIO(archive), "app.tar.gz")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200
    assert any(link["kind"] == "context-target" for link in answer.get_json()["links"])


def test_api_archive_as_body_with_query_options(client):
    archive = zip_of(texts(PROJECTS / "bake-contexts"))
    answer = client.post(
        "/api/project?project_target=tools&build_context=src%3D./other",
        data=archive,
        content_type="application/zip",
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["selected_builds"] == ["tools"]


def test_api_user_build_contexts_and_render_field(client):
    files = {"Dockerfile": "FROM base AS b\nRUN true\nFROM b\n"}
    data = client.post(
        "/api/project", json={"files": files, "build_contexts": {"base": "docker-image://alpine:3.20"}}
    ).get_json()
    assert [link["kind"] for link in data["links"]] == ["build-context"]
    plain = client.post("/api/render", json={"dockerfile": files["Dockerfile"]}).get_json()
    assert plain["stages"][0]["base"]["image"] == "docker.io/library/base:latest"
    graph = client.post(
        "/api/render",
        json={"dockerfile": files["Dockerfile"], "build_contexts": ["base=docker-image://alpine:3.20"]},
    ).get_json()
    assert graph["stages"][0]["base"]["image"] == "docker.io/library/alpine:3.20"
    # a Dockerfile's share keeps them too (Options.build_contexts); an empty set is none
    shared = client.post("/api/share", json={"dockerfile": "FROM a", "build_contexts": {}})
    assert shared.status_code == 201
    assert client.get(shared.get_json()["url"] + ".json").get_json()["stages"][0]["base"]["text"] == "a"


@pytest.mark.parametrize(
    "archive, status, words",
    [
        (zip_of({"Dockerfile": b"\0" * (4 * 1024 * 1024)}), 413, "limit"),
        (zip_of({"../../etc/Dockerfile": "FROM a\n"}), 400, "'..'"),
        (zip_of({"/etc/Dockerfile": "FROM a\n"}), 400, "absolute"),
        (b"not an archive at all", 400, "not an archive"),
        (zip_of({"notes.txt": "hello"}), 400, "no Dockerfile"),
    ],
    ids=["zip-bomb", "traversal", "absolute", "garbage", "no-dockerfile"],
)
def test_api_hostile_archives(client, archive, status, words):
    answer = client.post(
        "/api/project", data={"archive": (io.BytesIO(archive), "x.zip")}, content_type="multipart/form-data"
    )
    assert answer.status_code == status
    assert words in answer.get_json()["error"]["message"]


def test_api_symlinks_skipped_and_many_entries_refused(client):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        link = tarfile.TarInfo("Dockerfile")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    answer = client.post(
        "/api/project",
        data={"archive": (io.BytesIO(buffer.getvalue()), "x.tar")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400 and "no Dockerfile" in answer.get_json()["error"]["message"]
    many = many_entries_zip(100_000)
    answer = client.post(
        "/api/project", data={"archive": (io.BytesIO(many), "x.zip")}, content_type="multipart/form-data"
    )
    assert answer.status_code == 413 and "entries" in answer.get_json()["error"]["message"]


def test_api_refusals(client):
    assert (
        client.post("/api/project", json={"files": {"Dockerfile": "FROM a"}, "bogus": 1}).status_code == 400
    )
    answer = client.post("/api/project", json={"files": {"Dockerfile": "FROM a"}, "project_target": "x"})
    assert answer.status_code == 400 and "unknown project target" in answer.get_json()["error"]["message"]
    answer = client.post("/api/project", data=b"x" * (40 * 1024 * 1024), content_type="application/zip")
    assert answer.status_code == 413 and "at most" in answer.get_json()["error"]["message"]
    answer = client.post("/api/project", data=b"x" * 1000, content_type="text/plain")
    assert answer.status_code == 400
    big = b'{"files": {"Dockerfile": "' + b"#" * (17 * 1024 * 1024) + b'"}}'
    answer = client.post("/api/project", data=big, content_type="application/json")
    assert (
        answer.status_code == 413
        and str(2 * 8 * 1024 * 1024 + 64 * 1024) in answer.get_json()["error"]["message"]
    )
    assert (
        client.post("/api/project", json={"files": {"Dockerfile": "FROM a"}, "format": "pdf"}).status_code
        == 400
    )


def test_api_rate_limited():
    limited = create_app({"WARM_DOT": False, "RATE_RENDERS": 1}).test_client()
    body = {"files": {"Dockerfile": "FROM alpine\n"}}
    assert limited.post("/api/project", json=body).status_code == 200
    answer = limited.post("/api/project", json=body)
    assert answer.status_code == 429 and answer.headers["Retry-After"]


@pytest.mark.dot
def test_api_project_svg_and_one_file(client):
    answer = client.post("/api/project", json={"files": texts(BUILDER), "format": "svg"})
    assert answer.status_code == 200 and answer.mimetype == "image/svg+xml"
    assert b"link-copy-out" in answer.data
    one = client.post("/api/project", json={"files": texts(BUILDER), "file": "Dockerfile", "format": "svg"})
    assert one.status_code == 200 and b"link-" not in one.data


def test_real_server_project_upload_and_limits():
    """Through gunicorn as users run it: an archive body, a zip bomb, and a body past the limit."""
    import urllib.error
    import urllib.request

    from browser_util import Server

    server = Server(workers=1, env={"WEBAPP_WARM_DOT": "false"})
    try:
        server.wait_ready()

        def post(body: bytes, query: str = ""):
            request = urllib.request.Request(
                f"{server.url}/api/project{query}", data=body, headers={"Content-Type": "application/zip"}
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        status, data = post(zip_of(texts(BUILDER)))
        assert status == 200, server.log()
        assert [c["from"] for c in data["conversions"]] == [["Dockerfile.build", "Dockerfile"]]
        status, data = post(zip_of({"Dockerfile": b"\0" * (4 * 1024 * 1024)}))
        assert status == 413 and "limit" in data["error"]["message"]
        # a body announced past the limit is refused from its headers, before it is read
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.putrequest("POST", "/api/project")
        connection.putheader("Content-Type", "application/zip")
        connection.putheader("Content-Length", str(40 * 1024 * 1024))
        connection.endheaders(b"PK")
        response = connection.getresponse()
        assert response.status == 413 and b"at most" in response.read()
        connection.close()
    finally:
        server.stop()


def test_project_mermaid_parses_with_mermaids_own_parser(tmp_path, capsys):
    import subprocess

    from test_render_mermaid_parse import CHECK, _node_ready

    from webapp.render.project import project_to_mermaid

    _node_ready()
    outputs = []
    for name in ("bake-contexts", "builder-pattern", "compose-app"):
        out = tmp_path / f"{name}.mmd"
        assert main(["render", str(PROJECTS / name), "--format", "mermaid", "-o", str(out)]) == 0
        outputs.append(str(out))
    hostile = {
        'a"];x[label="y/Dockerfile': 'FROM alpine AS "q"\n',
        "b|c-->d%%{init}%%/Dockerfile": "FROM alpine\nCOPY --from=n%%{init}%%ope /a /b\n",
        "build.sh": 'docker build -t "x|y" -f "b|c-->d%%{init}%%/Dockerfile" "b|c-->d%%{init}%%"\n',
    }
    out = tmp_path / "hostile.mmd"
    out.write_text(project_to_mermaid(analyze_project(hostile, build_contexts={"n": 'docker-image://a"b|c'})))
    outputs.append(str(out))
    from conftest import ROOT

    result = subprocess.run(
        ["node", str(CHECK), *outputs], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    links = [line for line in Path(outputs[0]).read_text().splitlines() if '-->|"context baseapp"|' in line]
    assert len(links) == 1

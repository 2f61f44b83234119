"""Tag lookups against a real registry (Debian's docker-registry) on a loopback port."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import httpx
import pytest

from hakobu.errors import InvalidInput
from hakobu.images.registry import (
    Credentials,
    RegistryClient,
    RegistryError,
    RegistryUnreachable,
    find_credentials,
)

USER, PASSWORD = "ci", "s3cret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_registry(tmp: Path, *, auth: bool) -> Iterator[str]:
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.fail("docker-registry is not installed: `apt-get install docker-registry`")
    port = free_port()
    config = {
        "version": 0.1,
        "log": {"level": "error"},
        "storage": {"filesystem": {"rootdirectory": str(tmp / "data")}},
        "http": {"addr": f"127.0.0.1:{port}"},
    }
    if auth:
        # bcrypt: the only htpasswd hash docker-registry accepts.
        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt()).decode()
        (tmp / "htpasswd").write_text(f"{USER}:{hashed}\n")
        config["auth"] = {"htpasswd": {"realm": "test", "path": str(tmp / "htpasswd")}}
    (tmp / "config.yml").write_text(json.dumps(config))  # JSON is YAML
    log = (tmp / "registry.log").open("w")
    process = subprocess.Popen([binary, "serve", str(tmp / "config.yml")], stdout=log, stderr=log)
    host = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://{host}/v2/", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"registry did not start: {(tmp / 'registry.log').read_text()}")
                time.sleep(0.05)
        yield host
    finally:
        process.terminate()
        process.wait(10)
        log.close()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    yield from start_registry(tmp_path, auth=False)


@pytest.fixture
def private_registry(tmp_path: Path) -> Iterator[str]:
    yield from start_registry(tmp_path, auth=True)


def push(host: str, name: str, tag: str, auth: tuple[str, str] | None = None) -> None:
    """Upload a config blob and an OCI manifest with plain HTTP, as a pusher would."""
    with httpx.Client(base_url=f"http://{host}", auth=auth) as http:
        config = b"{}"
        digest = "sha256:" + hashlib.sha256(config).hexdigest()
        started = http.post(f"/v2/{name}/blobs/uploads/")
        assert started.status_code == 202, started.text
        # The upload URL carries its own query (the upload state): add to it, not replace it.
        location = httpx.URL(started.headers["location"]).copy_merge_params({"digest": digest})
        uploaded = http.put(location, content=config)
        assert uploaded.status_code == 201, uploaded.text
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest,
                "size": len(config),
            },
            "layers": [],
        }
        stored = http.put(
            f"/v2/{name}/manifests/{tag}",
            content=json.dumps(manifest),
            headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        )
        assert stored.status_code == 201, stored.text


def test_anonymous_registry_finds_pushed_tags_only(registry: str) -> None:
    push(registry, "shop/web", "abc123")
    with RegistryClient(credentials={}) as client:
        assert client.has_tag(f"{registry}/shop/web", "abc123") is True
        assert client.has_tag(f"{registry}/shop/web", "other") is False
        assert client.has_tag(f"{registry}/shop/never", "abc123") is False


def test_basic_auth(private_registry: str) -> None:
    push(private_registry, "shop/api", "t1", auth=(USER, PASSWORD))
    repository = f"{private_registry}/shop/api"
    good = {private_registry: Credentials(USER, PASSWORD)}
    with RegistryClient(credentials=good) as client:
        assert client.has_tag(repository, "t1") is True
        assert client.has_tag(repository, "t2") is False
    with RegistryClient(credentials={}) as client, pytest.raises(RegistryError, match="login"):
        client.has_tag(repository, "t1")
    wrong = {private_registry: Credentials(USER, "wrong")}
    with RegistryClient(credentials=wrong) as client, pytest.raises(RegistryError) as error:
        client.has_tag(repository, "t1")
    assert "docker login" in str(error.value)


def test_unreachable_registry() -> None:
    with (
        RegistryClient(credentials={}, timeout=2) as client,
        pytest.raises(RegistryUnreachable, match=r"127.0.0.1:\d+ is unreachable"),
    ):
        client.has_tag(f"127.0.0.1:{free_port()}/shop/web", "x")


def test_credentials_from_docker_and_containers_auth_files(tmp_path: Path) -> None:
    pair = base64.b64encode(b"user:pa:ss").decode()
    docker = tmp_path / "docker"
    docker.mkdir()
    (docker / "config.json").write_text(
        json.dumps({"auths": {"https://registry.example.com/v1/": {"auth": pair}}})
    )
    env = {"DOCKER_CONFIG": str(docker), "HOME": str(tmp_path)}
    assert find_credentials("registry.example.com", env) == Credentials("user", "pa:ss")
    assert find_credentials("other.example.com", env) is None
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(
        json.dumps({"auths": {"registry.example.com": {"username": "u", "password": "p"}}})
    )
    env["REGISTRY_AUTH_FILE"] = str(auth_file)
    assert find_credentials("registry.example.com", env) == Credentials("u", "p")
    auth_file.write_text("{not json")
    with pytest.raises(InvalidInput, match=r"auth\.json: cannot read registry logins"):
        find_credentials("registry.example.com", env)

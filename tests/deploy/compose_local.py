"""deploy/compose.yaml run as local processes (no Docker engine runs here), the way test_scale_out.py runs two
instances: each service runs its `command` or its image's CMD (deploy/Dockerfile, parsed), with its
`environment`, its image's ENV, its bind-mounted files and named volumes, in the order `depends_on` gives, each
wait condition checked the way compose checks it (a healthcheck command until it exits 0, a one-shot's exit code).

What is mapped, and nothing else: a container's files live under WORK/<service>/ (a named volume is one folder
linked into every service that mounts it), so /etc/… and /data in commands, settings and files point there;
`name:port` of a service becomes 127.0.0.1 and a free port; a server's own listening address (PA_BIND, sekmet's
`port:`, nginx's `listen`) is that port; PostgreSQL and Redis are this machine's (the test database, Redis db 15)
in place of the postgres and redis images; nginx gets its pid, log and temp paths under WORK (the image's
defaults are system folders). The project itself is the package the running interpreter has installed (the
image's `pip install .`)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from docker.utils.build import exclude_paths
from dockerfile_parse import DockerfileParser
from loopback import CLI

from cdshooks.cli.sandbox import free_port, sekmet_executable

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# The executables the images provide, as this machine runs them.
# Services this machine provides instead (reachable before the stack starts: the caller checks).
STAND_INS = ("postgres", "redis")
EXECUTABLES = {"pa-advisor": CLI, "gunicorn": [sys.executable, "-m", "gunicorn"], "python": [sys.executable],
               "nginx": [NGINX]}


def build_context() -> set[str]:
    """The files `docker build` sends for this project (docker-py applies .dockerignore as the engine does)."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    return set(exclude_paths(str(ROOT), patterns))


@dataclass
class Stage:
    """One stage of deploy/Dockerfile: what a container of its image starts with."""

    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # absolute container path → build-context path
    workdir: str = "/"
    expose: int | None = None


def stages(dockerfile: Path = DEPLOY / "Dockerfile") -> dict[str, Stage]:
    out: dict[str, Stage] = {}
    stage = Stage()
    for ins in DockerfileParser(str(dockerfile)).structure:
        kind, value = ins["instruction"], ins["value"]
        if kind == "FROM":
            stage = out.setdefault(value.split(" AS ")[-1].strip(), Stage())
        elif kind == "CMD":
            stage.cmd = json.loads(value)
        elif kind == "HEALTHCHECK":
            stage.healthcheck = json.loads(value.split(" CMD ", 1)[1])
        elif kind == "ENV":
            name, _, val = value.partition("=")
            stage.env[name] = val
        elif kind == "WORKDIR":
            stage.workdir = value
        elif kind == "EXPOSE":
            stage.expose = int(value)
        elif kind == "COPY":
            *sources, dest = value.split()
            if dest.startswith("/"):  # files the running container has (the rest were install-time only)
                for src in sources:
                    stage.files[dest] = src
    return out


def image_stage(service: dict, compose: dict, default: str) -> str:
    """The Dockerfile stage an image name stands for: the service (or another) that builds it says which (no
    `target`: the last stage, as docker build does)."""
    for other in compose["services"].values():
        if other.get("image") == service["image"] and "build" in other:
            return other["build"].get("target", default)
    raise LookupError(f"no service builds {service['image']}")


def order(compose: dict) -> list[str]:
    """Services in an order that starts every dependency first."""
    done: list[str] = []

    def visit(name: str) -> None:
        if name not in done:
            for dep in compose["services"][name].get("depends_on", {}):
                visit(dep)
            done.append(name)

    for name in compose["services"]:
        visit(name)
    return done


class LocalStack:
    def __init__(self, work: Path, *, store_url: str, redis_url: str, compose_file: Path = DEPLOY / "compose.yaml",
                 profiles: tuple[str, ...] = ()) -> None:
        self.compose = yaml.safe_load(compose_file.read_text())
        self.folder = compose_file.parent
        self.stages = stages()
        self.work = work
        self.backing = {"PA_STORE_URL": store_url, "PA_REPLAY_STORE": redis_url}
        self.procs: dict[str, subprocess.Popen] = {}
        self.exits: dict[str, subprocess.CompletedProcess] = {}
        self.services = [n for n in order(self.compose) if n not in STAND_INS
                         and set(self.compose["services"][n].get("profiles", [])) <= set(profiles)]
        # Every service that listens gets a local port: `name:container-port` → 127.0.0.1:port.
        self.ports: dict[str, tuple[int, int]] = {}
        for name in self.services:
            inner = self.container_port(name)
            if inner:
                self.ports[name] = (inner, free_port())

    # -- what a service is -------------------------------------------------------------------------------------
    def service(self, name: str) -> dict:
        return self.compose["services"][name]

    def stage(self, name: str) -> Stage | None:
        svc = self.service(name)
        if svc["image"].startswith("nginx"):
            return None
        return self.stages[image_stage(svc, self.compose, default=list(self.stages)[-1])]

    def container_port(self, name: str) -> int | None:
        svc, stage = self.service(name), self.stage(name)
        if "command" in svc and stage is not None:
            return None  # a one-shot or a client: runs its command, listens nowhere
        bind = svc.get("environment", {}).get("PA_BIND")
        if bind:
            return int(bind.rpartition(":")[2])
        if svc.get("ports"):
            return int(str(svc["ports"][0]).rpartition(":")[2])
        return stage.expose if stage else None

    def url(self, name: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[name][1]}{path}"

    # -- mapping a container onto this machine -----------------------------------------------------------------
    def fs(self, name: str) -> Path:
        return self.work / name

    def rewrite(self, name: str, text: str) -> str:
        for other, (inner, port) in self.ports.items():
            text = re.sub(rf"(?<![\w-]){re.escape(other)}:{inner}\b", f"127.0.0.1:{port}", text)
        return re.sub(r"(?<![\w.-])(/etc|/data)(?=/|$|\s|\")", lambda m: f"{self.fs(name)}{m.group(1)}", text)

    def prepare(self, name: str) -> None:
        """The container's filesystem: image files, bind mounts (rewritten copies), named volumes (linked)."""
        svc, stage, fs = self.service(name), self.stage(name), self.fs(name)
        (fs / "data").mkdir(parents=True, exist_ok=True)
        mounts = [(dest, ROOT / src) for dest, src in (stage.files.items() if stage else [])]
        for spec in svc.get("volumes", []):
            source, dest = spec.split(":")[:2]
            if source.startswith("."):
                mounts.append((dest, (self.folder / source).resolve()))
            else:  # a named volume: one folder, shared by every service mounting it
                volume = self.work / "volumes" / source
                volume.mkdir(parents=True, exist_ok=True)
                (fs / dest.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
                (fs / dest.lstrip("/")).symlink_to(volume, target_is_directory=True)
        for dest, source in mounts:
            target = fs / dest.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self.rewrite(name, source.read_text()))

    def argv(self, name: str, args: list[str]) -> list[str]:
        exe = EXECUTABLES.get(args[0]) or ([sekmet_executable()] if args[0] == "sekmet" else None)
        assert exe, f"{name}: no local stand-in for {args[0]}"
        return [*exe, *(self.rewrite(name, a) for a in args[1:])]

    def environment(self, name: str) -> dict[str, str]:
        svc, stage = self.service(name), self.stage(name)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PA_")}
        for key, value in {**(stage.env if stage else {}), **svc.get("environment", {})}.items():
            env[key] = self.backing.get(key) or self.rewrite(name, str(value))
        if name in self.ports and stage is not None and stage.cmd and stage.cmd[0] == "gunicorn":
            env["PA_BIND"] = f"127.0.0.1:{self.ports[name][1]}"  # where gunicorn listens (and probe asks)
        return env

    def listen_here(self, name: str) -> None:
        """A server's own listening address, in the file it reads it from."""
        fs, port = self.fs(name), self.ports[name][1]
        settings = fs / "etc" / "sekmet" / "settings.yaml"
        if settings.exists():
            settings.write_text(re.sub(r"(?m)^port: \d+$", f"port: {port}", settings.read_text()))
        conf = fs / "etc" / "nginx" / "nginx.conf"
        if conf.exists():
            text = re.sub(r"listen \d+;", f"listen 127.0.0.1:{port};", conf.read_text())
            paths = " ".join(f"{kind}_temp_path {fs}/{kind};" for kind in
                             ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")) + " proxy_max_temp_file_size 0;"
            conf.write_text(text.replace("http {", f"http {{\n    access_log off; {paths}", 1)
                            .replace("events {}", f"pid {fs}/nginx.pid;\nerror_log {fs}/error.log;\nevents {{}}"))

    # -- running it --------------------------------------------------------------------------------------------
    def command(self, name: str) -> list[str]:
        svc = self.service(name)
        if svc["image"].startswith("nginx"):
            return ["nginx", "-c", "/etc/nginx/nginx.conf", "-p", str(self.fs(name)), "-e",
                    str(self.fs(name) / "error.log"), "-g", "daemon off;"]
        return svc.get("command") or self.stage(name).cmd

    def healthy(self, name: str) -> bool:
        svc, stage = self.service(name), self.stage(name)
        test = (svc.get("healthcheck") or {}).get("test") or (["CMD", *stage.healthcheck] if stage else None)
        if test is None:
            return True
        args = test[1:] if test[0] == "CMD" else shlex.split(test[1])
        own = self.ports.get(name)
        if own:  # 127.0.0.1 inside the container is the container itself
            args = [a.replace(f"127.0.0.1:{own[0]}", f"127.0.0.1:{own[1]}") for a in args]
        return subprocess.run(self.argv(name, args), env=self.environment(name), cwd=self.cwd(name),
                              capture_output=True, timeout=30).returncode == 0

    def cwd(self, name: str) -> Path:
        stage = self.stage(name)
        return self.fs(name) / (stage.workdir if stage else "/").lstrip("/")

    def wait_for(self, dep: str, condition: str, timeout: float = 90) -> None:
        if dep in STAND_INS:
            return
        if condition == "service_completed_successfully":
            result = self.exits[dep]
            assert result.returncode == 0, f"{dep} exited {result.returncode}: {result.stdout}{result.stderr}"
            return
        deadline = time.monotonic() + timeout
        while condition == "service_healthy" and not self.healthy(dep):
            proc = self.procs[dep]
            assert proc.poll() is None, f"{dep} exited {proc.returncode}: {self.log(dep)}"
            assert time.monotonic() < deadline, f"{dep} not healthy in {timeout:g} s: {self.log(dep)}"
            time.sleep(0.3)

    def log(self, name: str) -> str:
        path = self.work / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def start(self, name: str, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess | None:
        """Start one service after its dependencies' conditions hold: a server keeps running; a one-shot (a
        service with its own command) runs to its end and its result is returned."""
        for dep, spec in self.service(name).get("depends_on", {}).items():
            self.wait_for(dep, (spec or {}).get("condition", "service_started"))
        if not self.fs(name).exists():
            self.prepare(name)
            if name in self.ports:
                self.listen_here(name)
        argv = self.argv(name, [*self.command(name), *extra])
        if name not in self.ports:
            result = subprocess.run(argv, env=self.environment(name), cwd=self.cwd(name), capture_output=True,
                                    text=True, timeout=300)
            self.exits[name] = result
            return result
        log = open(self.work / f"{name}.log", "wb")  # noqa: SIM115 (kept open while the process runs)
        self.procs[name] = subprocess.Popen(argv, env=self.environment(name), cwd=self.cwd(name), stdout=log,
                                            stderr=subprocess.STDOUT)
        return None

    def up(self) -> None:
        for name in self.services:
            self.start(name)
        for name in self.procs:
            self.wait_for(name, "service_healthy")

    def down(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

"""pa-advisor: serve · probe · lint · new-policy · kinds · explain · fixtures load/new · db · hook (play the EHR) ·
ehr-key."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
import yaml

from cdshooks import __version__
from cdshooks.errors import MappingError
from cdshooks.service.hooks import HOOKS
from cdshooks.settings import DEFAULT_MAPPINGS, Settings, SettingsError

# The mappings folder, as `serve` reads it (PA_MAPPINGS_DIR) unless given: lint, explain, kinds.
MAPPINGS_OPTION = click.option("--mappings", "mappings_dir", type=click.Path(path_type=Path),
                               default=DEFAULT_MAPPINGS, envvar="PA_MAPPINGS_DIR", show_default=True)


class _Cli(click.Group):
    """Mistakes and expected failures end in one line on stderr and a non-zero exit, never a traceback: a usage
    error (exit 2), a file that is missing or a folder, a server down or refusing, unreadable JSON or YAML (exit 1).
    Anything else is a bug of ours and keeps its traceback."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.exceptions.Abort:
            _fail("aborted", 1)
        except (OSError, ValueError, yaml.YAMLError, MappingError, SettingsError) as exc:
            _fail(_one_line(exc), 1)
        sys.exit(code if isinstance(code, int) else 0)


def _one_line(exc: BaseException) -> str:
    import requests

    if isinstance(exc, requests.ConnectionError) and exc.request is not None:
        return f"cannot reach {exc.request.url}: is the server running?"
    if isinstance(exc, requests.Timeout) and exc.request is not None:
        return f"no answer in time from {exc.request.url}"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _fail(message: str, code: int) -> None:
    click.echo(f"pa-advisor: {message}", err=True)
    sys.exit(code)


@click.group(cls=_Cli)
@click.version_option(__version__, prog_name="pa-advisor")
def main() -> None:
    """PA Advisor: prior-authorization guidance as a CDS Hooks service."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="gunicorn worker processes")
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 256),
              help="request threads per worker (slow clients hold a thread, not a whole worker)")
@click.option("--dev", is_flag=True, help="turn EHR JWT checking OFF (local testing only)")
@click.option("--trust", "trust", type=click.Path(exists=True, dir_okay=False), default=None,
              help="YAML list of trusted EHR issuers (PA_TRUST_FILE)")
@click.option("--public-url", default=None, help="the base URL EHRs call, for the JWT aud check (PA_PUBLIC_URL)")
@click.option("--console", "console", is_flag=True,
              help="the tester's console at /console (always on with --dev; in trust mode it has no sign-in, so it "
                   "stays off)")
def serve(host: str, port: int, workers: int, threads: int, dev: bool, trust: str | None,
          public_url: str | None, console: bool) -> None:
    """Start the service under gunicorn (the same app factory the deploy/ config runs)."""
    from gunicorn.app.base import BaseApplication

    from cdshooks.logs import GUNICORN_LOGCONFIG
    from cdshooks.multiproc import MetricsDirError, shared_metrics_dir

    # Before prometheus_client is imported (by the app): /metrics then sums every worker's counts.
    try:
        shared_metrics_dir(os.environ.get("PA_METRICS_DIR"))
    except MetricsDirError as exc:
        raise click.ClickException(str(exc)) from exc
    from cdshooks.web.app import STARTUP_ERRORS, ConfigError, create_app, startup_message

    overrides: dict[str, Any] = {"dev_mode": True} if dev else {}
    if trust:
        overrides["trust_file"] = trust
    if public_url:
        overrides["public_url"] = public_url
    try:
        settings = Settings.from_env(**overrides)
        if not settings.dev_mode and settings.replay_store == "memory" and workers > 1:
            raise ConfigError(f"PA_REPLAY_STORE=memory with {workers} workers: each worker would accept a token "
                              "the other has seen; use the default (store) or a redis:// URL, or --workers 1")
        app = create_app(settings)  # fail here, loudly, before forking workers
    except STARTUP_ERRORS as exc:
        click.echo(f"pa-advisor: cannot start: {startup_message(exc)}", err=True)
        sys.exit(2)
    if port and not _port_free(host, port):  # gunicorn would retry for a while, then exit with a traceback
        click.echo(f"pa-advisor: cannot start: port {port} on {host} is taken (another server listens there); "
                   "choose another with --port", err=True)
        sys.exit(2)
    if settings.dev_mode:
        click.echo("*** DEV MODE: EHR JWTs are NOT verified. Never expose this to a network you do not trust. ***",
                   err=True)
        click.echo(f"Tester's console: http://{host}:{port}/console", err=True)
    elif console:
        click.echo("pa-advisor: the console stays off in trust mode: it has no sign-in of its own (use --dev on a "
                   "trusted machine)", err=True)

    class _Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            # Threads, not sync workers: a client sending its request a byte at a time holds one thread, so a few
            # slow clients cannot take /healthz and every other caller down (see deploy/gunicorn.conf.py).
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", 30)
            self.cfg.set("accesslog", None)
            self.cfg.set("logconfig_dict", GUNICORN_LOGCONFIG)  # gunicorn's own lines as JSON too
            if "control_socket_disable" in self.cfg.settings:  # gunicorn ≥ 27: no control socket under $HOME
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            return app

    _Server().run()


@main.command()
@MAPPINGS_OPTION
@click.option("--source", "source", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the policy's text (copied page or converted PDF): every numbered or bulleted item must have an "
                   "outline entry")
@click.option("--policy", "policy_id", help="which policy the --source text is (default: the one whose id it quotes)")
def lint(mappings_dir: Path, source: Path | None, policy_id: str | None) -> None:
    """Check every mapping file against its schema, the value sets and the policy outlines."""
    from cdshooks.authoring.lint import lint_mappings

    problems, notes = lint_mappings(mappings_dir)
    if source and problems:
        notes.append(f"{source}: not compared with the outline until the errors below are fixed")
    elif source:
        from cdshooks.authoring.policy_text import items
        from cdshooks.authoring.source_check import compare, policy_for
        from cdshooks.policy.loader import load_library

        text = source.read_text(encoding="utf-8", errors="replace")
        policy = policy_for(load_library(mappings_dir).policies, text, policy_id)
        found, missing = compare(policy, items(text), str(source))
        problems += found
        notes += missing
    for note in notes:
        click.echo(f"note: {note}")
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo("mappings OK")


@main.command("new-policy")
@click.option("--from", "source", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the policy's text (copied page or converted PDF)")
@click.option("--id", "policy_id", required=True, help="the policy's reference number, e.g. CP.PHAR.999")
@click.option("--drug", required=True, help="the drug's billing code: hcpcs:J9380, ndc:…, rxnorm:… (or a bare code)")
@click.option("--name", default=None, help="the drug's brand name (default: the first line of the text)")
@MAPPINGS_OPTION
def new_policy(source: Path, policy_id: str, drug: str, name: str | None, mappings_dir: Path) -> None:
    """Scaffold a policy YAML (outline and one stub criterion per item of the text) and its drug value set."""
    from cdshooks.authoring.policy_text import items
    from cdshooks.authoring.scaffold import drug_coding, scaffold, slug

    text = source.read_text(encoding="utf-8", errors="replace")
    found = items(text)
    if not found:
        raise click.ClickException(f"{source}: no numbered or bulleted items found")
    name = name or next(line.strip(" #*") for line in text.splitlines() if line.strip(" #*"))[:60]
    policy_yaml, valueset_yaml = scaffold(found, policy_id, drug_coding(drug, name), name, str(source))
    targets = [(Path(mappings_dir) / "policies" / f"{slug(policy_id)}.yaml", policy_yaml),
               (Path(mappings_dir) / "valuesets" / f"{slug(policy_id)}.yaml", valueset_yaml)]
    for path, _ in targets:
        if path.exists():
            raise click.ClickException(f"{path} exists; not overwriting it")
    for path, body in targets:
        path.write_text(body, encoding="utf-8")
        click.echo(f"wrote {path}")
    click.echo(f"{len(found)} items. Next: fill the TODOs, then `pa-advisor lint --source {source} "
               f"--policy {policy_id}` until clean.")


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds: TIME_WAIT is no "taken"
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _load_resources(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a JSON file (not UTF-8 text)") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a FHIR resource or Bundle (a JSON {type(data).__name__})")
    if data.get("resourceType") == "Bundle":
        return [e["resource"] for e in data.get("entry", []) if isinstance(e, dict) and "resource" in e]
    return [data]


@main.command()
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--drug", required=True, help="drug code (HCPCS, RxNorm or NDC) or name")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), help="evaluate as of this date")
@MAPPINGS_OPTION
def explain(bundle: Path, drug: str, on: Any, mappings_dir: Path) -> None:
    """Evaluate one patient bundle for one drug and print the criteria with their evidence."""
    from cdshooks.cli.explain import explain_bundle

    try:
        code = explain_bundle(_load_resources(bundle), drug, on.date() if on else None, mappings_dir)
    except (MappingError, ValueError) as exc:
        click.echo(f"pa-advisor: {exc}", err=True)
        sys.exit(2)
    sys.exit(code)


@main.command()
@click.argument("name", required=False)
@click.option("--markdown", is_flag=True, help="the whole reference as the docs page (docs/kinds.md)")
@MAPPINGS_OPTION
def kinds(name: str | None, markdown: bool, mappings_dir: Path) -> None:
    """The criterion kinds: parameters, meaning, and an example from the mappings (all, or one NAME)."""
    from cdshooks.authoring.kinds_reference import markdown as page
    from cdshooks.authoring.kinds_reference import reference

    if markdown:
        click.echo(page(mappings_dir), nl=False)
        return
    text = reference(mappings_dir, name)
    if text is None:
        raise click.UsageError(f"no criterion kind {name!r} (pa-advisor kinds lists them)")
    click.echo(text)


@main.group()
def db() -> None:
    """The store's schema (PA_STORE_URL): `serve` upgrades it at start; these run it ahead of a rollout."""


STORE_OPTION = click.option("--store", "store_url", envvar="PA_STORE_URL", default="sqlite:///pa-advisor.db",
                            show_default=True, help="the store's URL (PA_STORE_URL)")


@db.command("upgrade")
@STORE_OPTION
def db_upgrade(store_url: str) -> None:
    """Bring the store to the newest schema (safe to run on a live store; instances take turns)."""
    from cdshooks.store import Store, StoreError
    from cdshooks.store.migrate import versions

    try:
        store = Store(store_url)
    except StoreError as exc:
        raise click.ClickException(f"cannot upgrade the store: {exc}") from exc
    current, head = versions(store.engine)
    store.close()
    click.echo(f"store at revision {current} (newest {head})")


@db.command("current")
@STORE_OPTION
def db_current(store_url: str) -> None:
    """Print the store's schema revision and the newest this release knows; exit 1 when behind."""
    from sqlalchemy.exc import SQLAlchemyError

    from cdshooks.store.migrate import versions
    from cdshooks.store.store import engine_for

    engine = engine_for(store_url)
    try:
        current, head = versions(engine)
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot read the store: {type(exc).__name__}") from exc
    finally:
        engine.dispose()
    click.echo(f"store at revision {current or 'none'} (newest {head})")
    if current != head:
        sys.exit(1)


@main.group()
def fixtures() -> None:
    """The synthetic patients in fhir_fixtures/."""


@fixtures.command("load")
@click.argument("bundles", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--fhir-server", required=True, help="FHIR R4 base URL")
@click.option("--token", default=None, help="bearer token for the FHIR server")
def fixtures_load(bundles: tuple[Path, ...], fhir_server: str, token: str | None) -> None:
    """POST transaction Bundles to a FHIR server: the BUNDLES given (files or folders), else every fixture."""
    from cdshooks.cli.sandbox import post_fixtures

    total = failed = 0
    for name, status in post_fixtures(fhir_server, token, paths=bundles):
        total += 1
        failed += status >= 300
        click.echo(f"{'ok ' if status < 300 else 'ERR'} {name}: HTTP {status}")
    click.echo(f"loaded {total - failed} of {total} bundles")
    sys.exit(1 if failed else 0)


@fixtures.command("new")
@click.option("--from", "base", required=True, help="the key of the fixture to start from (see manifest.json)")
@click.option("--key", required=True, help="the new fixture's key (also its bundle's file name)")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE",
              help="a change, in order: payer, plan, drug, dose, weight, lab, condition, status, given, attest, "
                   "birth, drop (see docs/adding-a-policy.md)")
@click.option("--expect", required=True,
              type=click.Choice(["likely-approved", "documentation-needed", "likely-denied", "not-covered", "none"]),
              help="the outcome a payer reviewer would give (none: no card)")
@click.option("--pathway", type=click.Choice(["initial", "continued"]), default="initial", show_default=True)
@click.option("--criterion", "criteria", multiple=True, metavar="ID=STATUS",
              help="a criterion's expected status (met, not-met, missing): the ones this fixture is about")
@click.option("--describe", required=True, help="one line: what this patient shows")
@click.option("--fixtures-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="the fixtures folder holding manifest.json (default: the bundled one)")
@MAPPINGS_OPTION
def fixtures_new(base: str, key: str, sets: tuple[str, ...], expect: str, pathway: str, criteria: tuple[str, ...],
                 describe: str, fixtures_dir: Path | None, mappings_dir: Path) -> None:
    """Derive a test patient from an existing one: write bundles/KEY.json and its manifest entry."""
    from cdshooks.authoring.fixture_new import add_fixture, expectation
    from cdshooks.settings import FIXTURES_DIR

    expected = expectation(None if expect == "none" else expect, pathway, criteria)
    out = add_fixture(fixtures_dir or FIXTURES_DIR, base, key, sets, expected, describe, mappings_dir)
    click.echo(f"wrote {out} and its manifest entry")


@main.command("ehr-key")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def ehr_key(folder: Path) -> None:
    """Make a test EHR's signing key in FOLDER: ehr-key.jwk (private, for `hook --sign-key`) and jwks.json (public,
    for a trust file's `jwks_file`). An existing pair is kept."""
    from cdshooks.cli.ehr_cli import JWKS_FILE, KEY_FILE, write_key_pair

    made = write_key_pair(folder)
    click.echo(f"{'wrote' if made else 'kept'} {folder / KEY_FILE} and {folder / JWKS_FILE}")


@main.command()
@click.option("--url", default=None, help="the readiness URL (default: /readyz on the port of PA_BIND)")
def probe(url: str | None) -> None:
    """Exit 0 when the service answers /readyz with 200 (the image's HEALTHCHECK); one line and exit 1 otherwise."""
    import requests

    from cdshooks.settings import bind_address

    url = url or f"http://127.0.0.1:{bind_address().rpartition(':')[2]}/readyz"
    try:
        status = requests.get(url, timeout=3).status_code
    except requests.RequestException as exc:
        raise click.ClickException(f"not ready: {_one_line(exc)}") from exc
    if status != 200:
        raise click.ClickException(f"not ready: {url} answered HTTP {status}")


@main.command()
@click.argument("hook_name", type=click.Choice([h.hook for h in HOOKS]))
@click.option("--patient", required=True, help="Patient id on the FHIR server")
@click.option("--drug", required=True, help="drug code (HCPCS, RxNorm or NDC) for the draft order")
@click.option("--fhir-server", required=True, help="FHIR R4 base URL the service may read")
@click.option("--token", default=None, help="bearer token passed to the service in fhirAuthorization")
@click.option("--service", "service", default="http://127.0.0.1:8080", show_default=True,
              help="base URL of the PA Advisor service")
@click.option("--prefetch", is_flag=True, help="resolve the discovery prefetch templates like an EHR would")
@click.option("--requester", default=None, help="Practitioner/ID of the prescriber (default: from the patient)")
@click.option("--json", "as_json", is_flag=True, help="print the raw response")
@click.option("--sign-key", type=click.Path(exists=True, dir_okay=False), default=None,
              help="private key (JWK or PEM) to sign each call as a trusted EHR would (for a --trust service)")
@click.option("--iss", default=None, help="the `iss` of the signed calls (required with --sign-key)")
@click.option("--kid", default=None, help="the `kid` of the signing key (default: the JWK's kid or thumbprint)")
@click.option("--public-url", default=None, help="the service's --public-url, for `aud` (default: --service)")
def hook(hook_name: str, patient: str, drug: str, fhir_server: str, token: str | None, service: str,
         prefetch: bool, requester: str | None, as_json: bool, sign_key: str | None, iss: str | None,
         kid: str | None, public_url: str | None) -> None:
    """Build a realistic hook request, call the service, print the cards."""
    from cdshooks.cli.ehr_cli import Signer, run_hook

    signer = None
    if sign_key:
        if not iss:
            raise click.UsageError("--sign-key needs --iss")
        try:
            signer = Signer.from_file(sign_key, iss, kid, (public_url or service).rstrip("/"))
        except ValueError as exc:
            raise click.UsageError(f"--sign-key: {exc}") from exc
    sys.exit(run_hook(hook_name, patient, drug, fhir_server.rstrip("/"), token, service.rstrip("/"), prefetch,
                      requester, as_json, date.today(), signer))


if __name__ == "__main__":
    main()

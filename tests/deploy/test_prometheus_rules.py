"""deploy/prometheus/ as Prometheus reads it: the configuration and alert rules pass promtool's checks,
and the alerts fire (and stay quiet) as their unit tests in tests.yml say."""

import shutil
import subprocess

import pytest
import yaml

from harness.server import ROOT as REPO

PROMETHEUS = REPO / "deploy" / "prometheus"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool not installed: `make test` installs it (scripts/require promtool)"
    return found


@pytest.mark.parametrize("check", [["check", "config", "prometheus.yml"], ["check", "rules", "alerts.yml"],
                                   ["test", "rules", "tests.yml"]], ids=" ".join)
def test_promtool_accepts_the_configuration_and_the_alerts_fire_as_tested(promtool, check):
    done = subprocess.run([promtool, *check], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


def test_the_compose_files_prometheus_loads_these_rules_from_a_stand_in_image():
    prometheus = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["prometheus"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    assert config["scrape_configs"][0]["static_configs"][0]["targets"] == ["web:8000"]
    builds = (REPO / "scripts" / "compose-images").read_text()
    assert f'build {prometheus["image"]} "$STANDINS/prometheus"' in builds  # scripts/compose-images builds it
    assert (REPO / "deploy" / "standins" / "prometheus" / "Containerfile").is_file()

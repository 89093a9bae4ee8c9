"""deploy/alertmanager/alertmanager.yml is a configuration Alertmanager accepts, and the local one made
from it (make run, the e2e tests) sends to the given API with the secret's file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from localcluster.alertmanager import FAST, local_config
from localcluster.versions import ALERTMANAGER_CONFIG

AMTOOL = shutil.which("amtool")


@pytest.mark.skipif(AMTOOL is None, reason="amtool comes with Debian's prometheus-alertmanager (make prometheus)")
@pytest.mark.parametrize("local", [False, True], ids=["repository", "local"])
def test_alertmanager_accepts_the_configuration(tmp_path: Path, local: bool) -> None:
    path = ALERTMANAGER_CONFIG
    if local:
        path = tmp_path / "alertmanager.yml"
        path.write_text(yaml.safe_dump(local_config("http://127.0.0.1:8000", tmp_path / "secret", FAST)))
    checked = subprocess.run([str(AMTOOL), "check-config", str(path)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def test_the_local_configuration_sends_to_the_api_with_the_secret(tmp_path: Path) -> None:
    config = local_config("http://127.0.0.1:8000/", tmp_path / "secret", FAST)
    (hook,) = config["receivers"][0]["webhook_configs"]
    assert hook["url"] == "http://127.0.0.1:8000/api/billing/alerts"
    assert hook["send_resolved"] is True
    assert hook["http_config"]["authorization"] == {"type": "Bearer", "credentials_file": str(tmp_path / "secret")}
    assert (config["route"]["group_wait"], config["route"]["group_by"]) == ("1s", ["organization", "alertname"])
    assert local_config("http://x", tmp_path / "s")["route"]["group_wait"] == "30s"  # the repository's own

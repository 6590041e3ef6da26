"""The demo's deploy.sh deploys onto the demo cluster's manager: the stack then runs the
deployed versions (what the post-deploy checks and the report read back)."""

from __future__ import annotations

from dataclasses import replace

from tasks.demo.cluster import NODES


def test_a_stack_deploy_changes_the_images_the_manager_reports() -> None:
    manager = replace(NODES["manager1"], stack={})
    fmt = ["service", "ls", "--format", "{{.Name}}\t{{.Image}}"]
    before = manager.docker(fmt)[0]
    assert "opencrvs/ocrvs-gateway:v1.3.0" in before
    out, err, code = manager.respond(
        [
            "docker",
            "stack",
            "deploy",
            "--core",
            "v1.3.5",
            "--country-config",
            "v1.3.5-fj",
            "opencrvs",
        ]
    )
    assert code == 0 and "Updating service opencrvs_gateway" in out, err
    after = manager.docker(fmt)[0]
    assert "opencrvs/ocrvs-gateway:v1.3.5" in after
    assert "farajaland/demo-countryconfig:v1.3.5-fj" in after
    assert NODES["manager1"].stack == {}  # each cluster deploys onto its own copy


def test_a_hostile_tag_is_refused() -> None:
    manager = replace(NODES["manager1"], stack={})
    argv = ["docker", "stack", "deploy", "--core", "v1;rm", "--country-config", "x", "opencrvs"]
    out, err, code = manager.respond(argv)
    assert code == 1 and manager.stack == {}

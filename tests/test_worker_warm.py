"""A worker loads the domain's responses and the department profile once, before RQ forks a
process per job: a forked job finds them loaded (here: with the files gone from disk)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

from bot.services import Services
from bot.settings import ROOT


def test_forked_jobs_inherit_what_warm_loaded(make_services: Callable[..., Services], tmp_path: Path) -> None:
    domain, profile = tmp_path / "domain.yml", tmp_path / "department.yml"
    shutil.copy(ROOT / "domain.yml", domain)
    shutil.copy(ROOT / "department.yml", profile)
    services = make_services(domain_path=domain, department_profile=profile)
    services.warm()
    domain.unlink()
    profile.unlink()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # what RQ's work horse does: use the parent's Services
        try:
            text = services.catalog.render("utter_greet", services.pipeline.slots("en")).text
            os.write(write, text.encode()[:200])
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    greeting = os.read(read, 200).decode()
    os.close(read)
    assert services.profile.short_name in greeting

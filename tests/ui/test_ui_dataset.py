"""Tiers 1 and 2: the Dataset tab's view model with real jobs (LJ teacher), and its layout."""

from __future__ import annotations

import time

import panel as pn
import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.ui.dataset import DatasetBuilder, DatasetTab


def wait_jobs(model, timeout=120):
    deadline = time.monotonic() + timeout
    while model.pending_jobs:
        assert time.monotonic() < deadline, "jobs did not finish"
        model.poll()
        time.sleep(0.2)


def test_build_preview_generate_label_and_stats(seeded_workspace, manager):
    m = DatasetBuilder(seeded_workspace, manager)
    assert m.datasets == [] and m.stats == {}
    with pytest.raises(UserInputError, match="create or choose a dataset"):
        m.submit_label()
    m.create("lps")
    m.add_source(m.library_source("gamma_li3ps4", ""))
    m.add_source(m.glass_source("75Li2S-25P2S5", 64, None))
    with pytest.raises(UserInputError):
        m.add_source("library:unobtainium")
    m.add_step("rattle", m.generator_defaults("rattle").replace('"n_copies": 1', '"n_copies": 3'))
    m.add_step("md_snapshots", '{"calculator": "lj", "n_snapshots": 1}')
    with pytest.raises(UserInputError, match="JSON object"):
        m.add_step("rattle", "stdev 0.1")
    with pytest.raises(UserInputError):
        m.add_step("rattle", '{"sigma": 1}')
    preview = m.preview()
    assert len(preview) == 3 and "1 MD step(s) not run" in m.message
    m.remove_step(1)
    assert [s["name"] for s in m.steps] == ["rattle"]
    m.submit_add()
    wait_jobs(m)
    assert m.summary()["status"]["pending"] == 6
    m.teacher = "lj"
    m.submit_label()
    wait_jobs(m)
    assert m.summary()["latest_version"] == 1 and m.stats["n_configurations"] == 6
    assert len(m.map["x"]) == 6 and m.map_configuration(0).calc is not None
    path = m.export(format="extxyz")
    assert path.is_file() and path.parent.name == "exports"
    with pytest.raises(UserInputError, match="no configuration waiting"):
        m.submit_label()


def test_tab_layout_and_actions(seeded_workspace, manager):
    tab = DatasetTab(seeded_workspace, manager)
    view = tab.__panel__()
    assert isinstance(view, pn.Column) and view.name == "Dataset"
    tab._new_name.value = "t"
    tab._act(tab._create)
    assert tab._dataset.value == "t" and "version 0" in tab._summary.object
    tab._act(lambda: tab.model.add_source(tab.model.library_source("li2s", "2x2x2")))
    assert tab._sources.options == ["library:li2s:2x2x2"]
    tab._generator.value = "strain"
    assert "volumetric" in tab._params.value
    tab._act(lambda: tab.model.add_step("strain", tab._params.value))
    tab._act(tab._preview)
    assert tab._player.trajectory is not None and tab._player.trajectory.n_atoms == 96
    tab._act(lambda: tab.model.add_step("rattle", "{bad"))
    assert tab._alert.visible and tab._alert.alert_type == "danger"
    assert "No labelled version yet" in tab._stats_md.object

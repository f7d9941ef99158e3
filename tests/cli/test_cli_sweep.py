"""``ssestudio sweep``: one md job per temperature through worker processes."""

import json


from ssestudio.cli.main import main


def test_sweep_runs_each_temperature_and_records_it(setup, capsys):
    from ssestudio.workspace import Workspace

    ws, cu = setup
    assert main(["sweep", "--structure", cu, "--temperatures", "400", "800",
                 "--calculator", "emt", "--ensemble", "nvt-bussi", "--steps", "20",
                 "--write-interval", "10", "--timestep-fs", "2", "--supercell", "2", "1", "1",
                 "--seed", "5", "--name", "cu", "--workspace", ws, "--json"]) == 0
    jobs = json.loads(capsys.readouterr().out)["jobs"]
    assert [j["temperature_K"] for j in jobs] == [400.0, 800.0]
    assert [j["status"] for j in jobs] == ["succeeded", "succeeded"]
    assert [j["trajectory"] for j in jobs] == ["cu-400K", "cu-800K"]
    assert [j["seed"] for j in jobs] == [5, 6] and all(j["n_frames"] == 3 for j in jobs)
    with Workspace.open(ws, create=False) as workspace:
        for job in jobs:
            rec = workspace.get_trajectory(job["trajectory"])
            assert rec.provenance["parameters"]["temperature_K"] == job["temperature_K"]


def test_sweep_detach_and_bad_input(setup, capsys):
    ws, cu = setup
    assert main(["sweep", "--structure", cu, "--temperatures", "300", "300",
                 "--workspace", ws]) == 2
    assert "distinct temperatures" in capsys.readouterr().err
    assert main(["sweep", "--structure", cu, "--temperatures", "300", "--steps", "5",
                 "--workspace", ws, "--json", "--detach"]) == 0
    (job,) = json.loads(capsys.readouterr().out)["jobs"]
    from ssestudio.jobs import JobManager
    from ssestudio.workspace import Workspace

    with Workspace.open(ws, create=False) as workspace, JobManager(workspace) as manager:
        assert manager.wait(job["job_id"], timeout=60).status == "succeeded"

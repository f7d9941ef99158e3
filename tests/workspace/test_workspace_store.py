"""Workspace creation, opening, seeding, schema versioning and non-trajectory artifacts."""

import json
import hashlib
import sqlite3

import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.workspace import (NameTakenError, NotAWorkspaceError, RecordNotFoundError,
                                 Workspace, WorkspaceNotFoundError, WorkspaceVersionError,
                                 default_workspace_path, sample_data_dir)
from ssestudio.workspace import schema


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _set_meta(db, key, value):
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))
    conn.commit()
    conn.close()


def test_create_and_reopen(tmp_path, empty_sample_dir):
    root = tmp_path / "ws"
    with Workspace.open(root, sample_dir=empty_sample_dir) as ws:
        meta = ws.meta()
        assert meta["schema_version"] == str(schema.SCHEMA_VERSION)
        assert meta["app"] == "ssestudio" and meta["created_by"] and meta["created_at"]
        assert ws.query("PRAGMA journal_mode")[0][0] == "wal"
        assert ws.query("PRAGMA foreign_keys")[0][0] == 1
        assert all((root / d).is_dir() for d in ("trajectories", "structures", "jobs"))
    with Workspace.open(root / "ssestudio.sqlite", create=False) as again:
        assert again.root == root.resolve() and again.meta()["created_at"] == meta["created_at"]
    assert not list(root.glob("*.creating-*"))


def test_missing_workspace_without_create(tmp_path):
    with pytest.raises(WorkspaceNotFoundError, match="no SSE Studio workspace"):
        Workspace.open(tmp_path / "nope", create=False)
    assert not (tmp_path / "nope").exists()


def test_default_path_and_sample_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SSESTUDIO_WORKSPACE", str(tmp_path / "custom"))
    assert default_workspace_path() == tmp_path / "custom"
    monkeypatch.delenv("SSESTUDIO_WORKSPACE")
    assert default_workspace_path().parts[-2:] == (".ssestudio", "workspace")
    assert sample_data_dir().name in ("sample_data", "_sample_data")


def test_seed_from_sample_dir_once(tmp_path, sample_dir):
    root = tmp_path / "ws"
    with Workspace.open(root, sample_dir=sample_dir) as ws:
        (structure,) = ws.list_structures()
        (traj,) = ws.list_trajectories()
        assert structure.name == "NaCl rocksalt" and structure.description == "test structure"
        assert traj.name == "tiny md" and traj.n_frames == 3 and traj.timestep_fs == 2.0
        assert root.resolve() in traj.paths[0].parents
        assert ws.meta()["seed_state"] == "done"
        ws.delete_structure("NaCl rocksalt")
    with Workspace.open(root, sample_dir=sample_dir) as ws:  # not seeded again
        assert ws.list_structures() == [] and len(ws.list_trajectories()) == 1


def test_no_manifest_seeds_nothing(ws):
    assert ws.list_structures() == [] and ws.list_trajectories() == []
    assert ws.meta()["seed_state"] == "done"


def test_bad_manifest_does_not_lock_out(tmp_path, caplog):
    folder = tmp_path / "bad-sample"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"structures": [{"name": "no file key"}]}')
    with Workspace.open(tmp_path / "ws", sample_dir=folder) as ws:
        assert ws.meta()["seed_state"].startswith("failed")
    assert "seeding workspace" in caplog.text


def test_seed_false_skips(tmp_path, sample_dir):
    with Workspace.open(tmp_path / "ws", seed=False) as ws:
        assert ws.meta()["seed_state"] == "skipped"
    with Workspace.open(tmp_path / "ws", sample_dir=sample_dir) as ws:
        assert ws.list_structures() == []


def test_newer_schema_is_refused(ws):
    _set_meta(ws.db_path, "schema_version", "3")
    with pytest.raises(WorkspaceVersionError, match=r"newer SSE Studio \(schema 3\); this "
                       r"version understands schema 1: upgrade ssestudio"):
        Workspace.open(ws.root)


def _add_notes_column(conn):
    conn.execute("ALTER TABLE structures ADD COLUMN notes TEXT NOT NULL DEFAULT ''")


def test_older_schema_is_migrated_with_backup(ws, cif_file, monkeypatch):
    ws.import_structure(cif_file)
    ws.close()
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(schema.MIGRATIONS, 1, _add_notes_column)
    with Workspace.open(ws.root) as migrated:
        assert migrated.meta()["schema_version"] == "2"
        assert migrated.query("SELECT notes FROM structures")[0][0] == ""
        assert migrated.get_structure("nacl").n_atoms == 2
    backup = ws.root / "ssestudio.sqlite.bak-v1"
    conn = sqlite3.connect(backup)
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "1"
    assert conn.execute("SELECT COUNT(*) FROM structures").fetchone()[0] == 1
    conn.close()


def test_new_workspace_runs_migrations(tmp_path, monkeypatch):
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(schema.MIGRATIONS, 1, _add_notes_column)
    with Workspace.open(tmp_path / "ws", seed=False) as ws:
        assert ws.meta()["schema_version"] == "2"
        assert ws.query("SELECT COUNT(notes) FROM structures")[0][0] == 0
    assert not (tmp_path / "ws" / "ssestudio.sqlite.bak-v1").exists()


def test_missing_migration_path_leaves_db_untouched(ws, monkeypatch):
    ws.close()
    before = _digest(ws.db_path)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 3)
    monkeypatch.setitem(schema.MIGRATIONS, 1, _add_notes_column)
    with pytest.raises(WorkspaceVersionError, match="no migration from schema 2"):
        Workspace.open(ws.root)
    assert _digest(ws.db_path) == before


def test_failing_migration_rolls_back(ws, monkeypatch):
    ws.close()

    def broken(conn):
        _add_notes_column(conn)
        raise RuntimeError("boom")

    monkeypatch.setattr(schema, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(schema.MIGRATIONS, 1, broken)
    with pytest.raises(WorkspaceVersionError, match="boom.*unchanged"):
        Workspace.open(ws.root)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 1)
    with Workspace.open(ws.root) as again:
        assert again.meta()["schema_version"] == "1"
        columns = [r["name"] for r in again.query("PRAGMA table_info(structures)")]
        assert "notes" not in columns


def test_foreign_sqlite_database_is_left_untouched(tmp_path):
    root = tmp_path / "other"
    root.mkdir()
    db = root / "ssestudio.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    conn.execute("INSERT INTO meta VALUES ('app', 'someone-else')")
    conn.commit()
    conn.close()
    before = _digest(db)
    with pytest.raises(NotAWorkspaceError, match="not an SSE Studio workspace"):
        Workspace.open(root)
    assert _digest(db) == before and sorted(p.name for p in root.iterdir()) == [db.name]


def test_non_sqlite_file_is_left_untouched(tmp_path):
    root = tmp_path / "junk"
    root.mkdir()
    (root / "ssestudio.sqlite").write_bytes(b"hello, not a database" * 10)
    before = _digest(root / "ssestudio.sqlite")
    with pytest.raises(NotAWorkspaceError, match="not an SQLite database"):
        Workspace.open(root)
    assert _digest(root / "ssestudio.sqlite") == before


def test_non_empty_folder_is_refused(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.tex").write_text("x")
    with pytest.raises(NotAWorkspaceError, match="not empty"):
        Workspace.open(tmp_path / "home")
    assert [p.name for p in (tmp_path / "home").iterdir()] == ["thesis.tex"]


def test_structures(ws, cif_file, tmp_path):
    rec = ws.import_structure(cif_file, description="rock salt",
                              provenance={"parameters": {"source": "test"}})
    assert rec.name == "nacl" and rec.formula == "ClNa" and rec.n_atoms == 2
    assert rec.path.parent.parent == ws.root / "structures" and rec.path.exists()
    assert rec.provenance["inputs"] == [str(cif_file)]
    assert rec.provenance["parameters"] == {"copy": True, "source": "test"}
    assert ws.import_structure(cif_file).name == "nacl-2"
    with pytest.raises(NameTakenError):
        ws.import_structure(cif_file, name="nacl")
    assert len(ws.read_structure(rec.id)) == 2
    assert ws.get_structure(str(rec.id)) == rec
    ws.delete_structure("nacl", delete_files=True)
    assert not rec.path.exists() and [s.name for s in ws.list_structures()] == ["nacl-2"]
    with pytest.raises(RecordNotFoundError, match="nacl-2"):
        ws.get_structure("nacl")


def test_unreadable_structure_registers_nothing(ws, tmp_path):
    bad = tmp_path / "bad.cif"
    bad.write_text("this is not a cif")
    with pytest.raises(UserInputError, match="could not read bad.cif"):
        ws.import_structure(bad)
    with pytest.raises(UserInputError, match="not found"):
        ws.import_structure(tmp_path / "missing.cif")
    assert ws.list_structures() == [] and list((ws.root / "structures").iterdir()) == []


def test_bad_provenance_is_rejected(ws, cif_file):
    with pytest.raises(UserInputError, match="unknown provenance keys"):
        ws.import_structure(cif_file, provenance={"author": "me"})
    with pytest.raises(UserInputError, match="JSON-serialisable"):
        ws.import_structure(cif_file, provenance={"parameters": {"x": object()}})
    assert ws.list_structures() == []


def test_versioned_artifacts(ws):
    first = ws.add_artifact("models", ws.root / "models" / "a.pt", name="mace-small",
                            provenance={"inputs": ["dataset:lps"], "parameters": {"r": 5.0}})
    second = ws.add_artifact("models", "/elsewhere/b.pt", name="mace-small")
    assert (first.version, second.version) == (1, 2)
    assert first.path == ws.root / "models" / "a.pt" and str(second.path) == "/elsewhere/b.pt"
    assert ws.get_artifact("models", "mace-small").version == 2
    assert ws.get_artifact("models", "mace-small", version=1) == first
    assert [a.version for a in ws.list_artifacts("models", name="mace-small")] == [1, 2]
    assert ws.list_artifacts("datasets") == []
    with pytest.raises(UserInputError, match="unknown artifact kind"):
        ws.list_artifacts("potatoes")


def test_summary(ws, cif_file):
    ws.import_structure(cif_file)
    summary = ws.summary()
    assert summary["root"] == str(ws.root) and summary["schema_version"] == 1
    assert summary["counts"] == {"trajectories": 0, "structures": 1, "datasets": 0,
                                 "models": 0, "runs": 0, "jobs": 0}


def test_two_connections_see_each_other(ws, cif_file):
    with Workspace.open(ws.root) as other:
        ws.import_structure(cif_file)
        assert [s.name for s in other.list_structures()] == ["nacl"]


def test_closed_workspace_says_so(tmp_path):
    ws = Workspace.open(tmp_path / "ws", seed=False)
    ws.close()
    with pytest.raises(Exception, match="closed"):
        ws.list_structures()


def _open_and_add(root, sample, worker, n):
    with Workspace.open(root, sample_dir=sample) as ws:  # several processes create it at once
        for i in range(n):
            ws.add_artifact("runs", f"{root}/runs/{worker}-{i}", name=f"run-{worker}")
    return worker


def test_concurrent_processes_create_seed_and_write(tmp_path, cif_file):
    import json
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    sample = tmp_path / "sample"
    sample.mkdir()
    (sample / "nacl.cif").write_bytes(cif_file.read_bytes())
    (sample / "manifest.json").write_text(json.dumps({"structures": [{"file": "nacl.cif"}]}))
    root = tmp_path / "shared-ws"
    with ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("spawn")) as pool:
        done = list(pool.map(_open_and_add, [root] * 3, [sample] * 3, range(3), [15] * 3))
    assert done == [0, 1, 2]
    with Workspace.open(root) as ws:
        runs = ws.list_artifacts("runs")
        assert len(runs) == 45
        assert sorted(r.version for r in runs if r.name == "run-2") == list(range(1, 16))
        assert [s.name for s in ws.list_structures()] == ["nacl"]


def test_seed_copies_and_registers_a_sample_model(tmp_path, sample_dir):
    manifest = json.loads((sample_dir / "manifest.json").read_text())
    (sample_dir / "models").mkdir()
    (sample_dir / "models" / "m.pt").write_bytes(b"model bytes")
    manifest["models"] = [{"file": "models/m.pt", "name": "sample model",
                           "description": "a trained model"}]
    (sample_dir / "manifest.json").write_text(json.dumps(manifest))
    with Workspace.open(tmp_path / "ws", sample_dir=sample_dir) as ws:
        (model,) = ws.list_artifacts("models")
        assert model.name == "sample model" and model.version == 1
        assert model.path.read_bytes() == b"model bytes"
        assert (tmp_path / "ws").resolve() in model.path.parents

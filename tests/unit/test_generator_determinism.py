"""Same seed and parameters give the same world, byte for byte; another seed another world."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dataplatform.generator import GeneratorError, generate_world
from dataplatform.generator.cli import main

OWNED = ("landing", "world")


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for folder in OWNED
        for path in sorted((root / folder).rglob("*"))
        if path.is_file()
    }


def _tables(root: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(root / "source/marketplace.sqlite")
    try:
        return {
            table: con.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("users", "categories", "listings")
        }
    finally:
        con.close()


def test_same_seed_gives_byte_identical_files(generator_world, generator_world_again):
    first, second = _files(generator_world), _files(generator_world_again)
    assert sorted(first) == sorted(second)
    assert any(name.endswith(".jsonl.gz") for name in first)
    assert "world/truth.json" in first and "world/params.json" in first
    different = [name for name in first if first[name] != second[name]]
    assert different == []


def test_same_seed_gives_the_same_database_content(generator_world, generator_world_again):
    first, second = _tables(generator_world), _tables(generator_world_again)
    assert len(first["users"]) == 1000 and len(first["listings"]) > 0
    assert first == second


def test_another_seed_gives_another_world(generator_world, generator_world_other_seed):
    first, other = _files(generator_world), _files(generator_world_other_seed)
    assert first["world/truth.json"] != other["world/truth.json"]
    shared = set(first) & set(other)
    assert all(first[name] != other[name] for name in shared if name.startswith("landing/"))
    assert _tables(generator_world)["users"] != _tables(generator_world_other_seed)["users"]


def test_rerun_replaces_the_previous_world(tmp_path):
    stray = tmp_path / "landing/events/dt=2020-01-01/part-0000.jsonl"
    stray.parent.mkdir(parents=True)
    stray.write_text("old\n")
    keep = tmp_path / "lake/raw/keep.txt"
    keep.parent.mkdir(parents=True)
    keep.write_text("not the generator's")
    summary = generate_world(tmp_path, days=1, users=200, seed=1)
    assert not stray.exists() and keep.exists()
    assert summary.lines > 0 and summary.files == len(
        list((tmp_path / "landing").rglob("*.jsonl*"))
    )
    assert (tmp_path / "source/marketplace.sqlite").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["--days", "0"],
        ["--users", "5"],
        ["--start-date", "2026-02-30"],
        ["--events-per-day", "-3"],
    ],
)
def test_cli_rejects_bad_arguments_with_exit_code_2(tmp_path, capsys, argv):
    try:
        code = main(["--data-dir", str(tmp_path / "out"), *argv])
    except SystemExit as exit_info:  # argparse's own checks exit directly
        code = exit_info.code
    assert code == 2
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing written for a bad request


def test_cli_unwritable_directory_is_one_clear_message(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code = main(["--data-dir", str(blocker / "world"), "--days", "1", "--users", "200"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: cannot write the demo world") and err.count("\n") == 1
    with pytest.raises(GeneratorError):
        generate_world(blocker / "world", days=1, users=200, seed=1)


def test_cli_prints_a_summary(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path), "--days", "2", "--users", "300", "--seed", "3"]) == 0
    out, err = capsys.readouterr()
    assert "events/s" in out and "dt=2026-11-02" in err

"""sweep's checks before any work and its cache's resume rules (no tools run here; tests/test_sweep.py and
tests/test_interrupts.py run real points)."""

from __future__ import annotations

import json

import pytest

from had_hls.errors import UserError
from had_hls.estimate.sweep import check_cluster_address, grid
from had_hls.estimate.sweep.point_cache import cached_point, remove_partial_writes


@pytest.mark.parametrize(
    "address",
    [
        "tcp://127.0.0.1:8786",
        "127.0.0.1:8786",
        "tls://sched.example.org:8786",
        "tcp://[::1]:8786",
        "inproc://10.0.0.1/1234/1",
    ],
)
def test_cluster_addresses_accepted(address: str) -> None:
    assert check_cluster_address(address) == address


@pytest.mark.parametrize(
    "address",
    ["foo", "tcp://host", "tcp://:8786", "http://h:80", "tcp://h:0", "tcp://h:x", "tcp://h:65536", "", "inproc://"],
)
def test_malformed_cluster_addresses_refused(address: str) -> None:
    with pytest.raises(UserError, match=r"--cluster: .* is not allowed"):
        check_cluster_address(address)


def test_grid_never_clips() -> None:
    assert [p.top_n for p in grid([8, 16], [4], [8], [2])] == [8, 8]
    with pytest.raises(UserError, match=r"--top-n: 9 is not allowed with --seq-len 8,16"):
        grid([8, 16], [4], [9], [2])
    with pytest.raises(UserError, match=r"--lanes: 0 is not allowed"):
        grid([8], [4], None, [0])


def test_a_half_written_or_foreign_cache_entry_is_computed_again(tmp_path) -> None:
    whole = tmp_path / "point-a.json"
    whole.write_text(json.dumps({"label": "L8_d4_N2_P2", "area_reduction": 0.5}))
    cut = tmp_path / "point-b.json"
    cut.write_text('{"label": "L8_d4_N2_P2", "area_red')
    other = tmp_path / "point-c.json"
    other.write_text("[1, 2]")
    assert cached_point(whole)["area_reduction"] == 0.5
    assert cached_point(cut) is None and cached_point(other) is None
    assert cached_point(tmp_path / "point-missing.json") is None


def test_partial_writes_of_killed_writers_are_removed(tmp_path) -> None:
    (tmp_path / "point-a.json").write_text("{}")
    (tmp_path / ".point-b.json.tmp-123-abc").write_text('{"lab')
    remove_partial_writes(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["point-a.json"]

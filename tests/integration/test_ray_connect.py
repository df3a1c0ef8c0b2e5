"""`connect()` joins the cluster `mka serve` runs for the same MKA_HOME, and never a stale or unrelated one."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import ray

from cluster.ray_runtime import address_file, connect_ray, write_address
from cluster.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

_JOIN = textwrap.dedent("""
    import sys
    from pathlib import Path
    import ray
    from cluster.ray_runtime import connect_ray
    from cluster.settings import Settings
    print(connect_ray(Settings(home=Path(sys.argv[1]))))
    print(ray.get_runtime_context().gcs_address)
""")


def test_a_second_process_joins_through_the_address_file_and_a_stale_file_is_ignored(tmp_path: Path) -> None:
    if ray.is_initialized():
        ray.shutdown()
    settings = Settings(home=tmp_path / "home")
    address_file(settings).parent.mkdir(parents=True)
    address_file(settings).write_text("127.0.0.1:9\n")  # left by a serve process that died
    said = connect_ray(settings)
    try:
        assert said.startswith("started a local Ray cluster") and "is gone" in said
        recorded = write_address(settings)
        gcs = ray.get_runtime_context().gcs_address
        assert recorded.read_text().strip() == gcs
        out = subprocess.run([sys.executable, "-c", _JOIN, str(settings.home)], capture_output=True, text=True,
                             timeout=240, check=True).stdout.strip().splitlines()
        assert out[-2].startswith("joined the Ray cluster of `mka serve`") and out[-1] == gcs
        other = Settings(home=tmp_path / "elsewhere")  # another MKA_HOME has no address file: its own cluster
        alone = subprocess.run([sys.executable, "-c", _JOIN, str(other.home)], capture_output=True, text=True,
                               timeout=240, check=True).stdout.strip().splitlines()
        assert alone[-2] == "started a local Ray cluster" and alone[-1] != gcs
    finally:
        ray.shutdown()

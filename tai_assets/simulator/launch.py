"""Starting the simulator as its own process and pointing tai at it.

`python -m tai_assets.simulator.launch PORTS_FILE` prints shell `export` lines for the ports a
simulator printed (its first stdout line), so that `./tai demo` points tai at it.
"""

import json
import shlex
import subprocess
import sys
from pathlib import Path

from tai_assets.simulator.config import SimulatorConfig

PROJECT_DIR = Path(__file__).resolve().parents[2]


def tai_environment(ports: dict) -> dict[str, str]:
    """Return the variables that point tai's sources (and chrono credentials) at a simulator."""
    defaults = SimulatorConfig()
    return {
        "TRAINING_HOST": str(ports["host"]),
        "TRAINING_PORT": str(ports["udp_port"]),
        "TRAINING_API_BASE_URL": ports["http_base_url"],
        "CHRONO_API_BASE_URL": ports["http_base_url"],
        "CHRONO_LOGIN": defaults.chrono_login,
        "CHRONO_TOKEN": defaults.chrono_token,
    }


def start_process(speed: float = 60.0) -> tuple[subprocess.Popen, dict]:
    """Start `python -m tai_assets.simulator` on free loopback ports; return it and its ports."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tai_assets.simulator",
            "--udp-port",
            "0",
            "--http-port",
            "0",
            "--speed",
            str(speed),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_DIR,
    )
    return process, json.loads(process.stdout.readline())


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as ports_file:
        simulator_ports = json.loads(ports_file.readline())
    for name, value in tai_environment(simulator_ports).items():
        print(f"export {name}={shlex.quote(value)}")

"""The project's simulator (`macsec-operator sim`) as a child process, official-SDK
clients pointed at it, and the seed the tests share.

A simulator gets its own temp dir and seed, a port the kernel picks (`--listen
127.0.0.1:0`; the address is read from its `listening on ADDR` line, with a deadline), and
dies with the test process at the latest. Its stdout and stderr are kept, so tests can
check what it printed.
"""

from __future__ import annotations

import ctypes
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_vpc20160428 import models as vpc_models
from alibabacloud_vpc20160428.client import Client as VpcClient
from Tea.exceptions import TeaException

REPO = Path(__file__).resolve().parent.parent

ACCESS_KEY_ID = "LTAI5tConformanceSimKey1"
ACCESS_KEY_SECRET = "ConformanceSimSecret0123456789ab"
REGION = "cn-hangzhou"
CIRCUIT = "pc-bp1hp0wr072f6abcd"
SUITE = "GCM-AES-128"

# The seeded keys: A is associated, B was active before it.
CKN_A = "0123456789ABCDEF0123456789ABCDEF"
CAK_A = "FEDCBA9876543210FEDCBA9876543210"
START_A = "2026-01-01T00:00:00Z"
CKN_B = "11111111111111111111111111111111"
CAK_B = "B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0"
START_B = "2025-06-01T00:00:00Z"
# Keys the tests add.
CKN_C = "22222222222222222222222222222222"
CAK_C = "C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0"
CKN_D = "33333333333333333333333333333333"
CAK_D = "D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0D0"
CKN_E = "AB" * 16
CAK_E = "e1e2e3e4e5e6e7e8e9eaebecedeeeff0"  # lower case on purpose

# Everything that must never show up in the simulator's output.
SECRETS = [ACCESS_KEY_SECRET, CAK_A, CAK_B, CAK_C, CAK_D, CAK_E]

DEFAULT_SEED = f"""\
accessKeys:
  - id: {ACCESS_KEY_ID}
    secret: {ACCESS_KEY_SECRET}
circuits:
  - regionId: {REGION}
    physicalConnectionId: {CIRCUIT}
    status: Enabled
    keys:
      - ckn: {CKN_A}
        cak: {CAK_A}
        cipherSuite: {SUITE}
        status: Associated
        startOn: "{START_A}"
      - ckn: {CKN_B}
        cak: {CAK_B}
        cipherSuite: {SUITE}
        status: Disassociated
        startOn: "{START_B}"
"""

START_DEADLINE_S = 30.0
CALL_TIMEOUT_MS = 15000


def sim_binary() -> Path:
    if os.environ.get("MACSEC_OPERATOR_BIN"):
        return Path(os.environ["MACSEC_OPERATOR_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "macsec-operator"


def _die_with_parent():
    """In the child: the kernel kills the simulator if pytest dies first."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Sim:
    """One running simulator."""

    def __init__(self, directory: Path, seed: str, flags: tuple[str, ...]):
        binary = sim_binary()
        if not binary.exists():
            pytest.fail(f"{binary} is missing: build it with `cargo build --locked` (`make conformance` does)")
        self.seed_path = directory / "seed.yaml"
        self.seed_path.write_text(seed, encoding="utf-8")
        self.secrets = set(SECRETS)
        self.lines: list[str] = []
        self.stderr_lines: list[str] = []
        self._lock = threading.Condition()
        self._listening: queue.Queue = queue.Queue()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MACSEC_SIM_")}
        self.argv = [str(binary), "sim", "--listen", "127.0.0.1:0", "--seed", str(self.seed_path), *flags]
        self.process = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            encoding="utf-8",
            errors="replace",
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        self._threads = [
            threading.Thread(target=self._pump, args=(self.process.stdout, self.lines, True), daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stderr, self.stderr_lines, False), daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self.address = self._wait_for_address()
        self.host, _, port = self.address.rpartition(":")
        self.port = int(port)
        self.endpoint = self.address  # what the SDK's Config.endpoint wants: host:port
        self.url = f"http://{self.address}"

    def _pump(self, stream, sink, watch_for_address):
        for line in stream:
            line = line.rstrip("\n")
            with self._lock:
                sink.append(line)
                self._lock.notify_all()
            if watch_for_address and "listening on " in line:
                self._listening.put(line.split("listening on ", 1)[1].split()[0].strip())
        if watch_for_address:
            self._listening.put(None)  # stdout closed: the process is gone

    def _wait_for_address(self) -> str:
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                pytest.fail(f"the simulator did not print 'listening on ADDR' within {START_DEADLINE_S}s:\n{self.output()}")
            try:
                address = self._listening.get(timeout=remaining)
            except queue.Empty:
                continue
            if address is None:
                self.process.wait(timeout=10)
                pytest.fail(f"the simulator exited with {self.process.returncode} before listening:\n{self.output()}")
            address = address.removeprefix("http://").rstrip("/")
            return address

    def output(self) -> str:
        with self._lock:
            return "\n".join(["--- stdout ---", *self.lines, "--- stderr ---", *self.stderr_lines])

    def stdout(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def wait_for_stdout(self, *needles: str, timeout: float = 15.0) -> str:
        """Waits until stdout holds every needle (a call is logged around its answer, so
        right after a call its line may still be on its way); returns stdout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                text = "\n".join(self.lines)
                missing = [needle for needle in needles if needle not in text]
                if not missing:
                    return text
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None and not self._threads[0].is_alive():
                    pytest.fail(f"the simulator never printed {missing}:\n{text}")
                self._lock.wait(timeout=min(remaining, 1.0))

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for thread in self._threads:
            thread.join(timeout=10)

    def leaked_secrets(self) -> list[str]:
        text = self.output().lower()
        return sorted(secret for secret in self.secrets if secret and secret.lower() in text)

    # --- the test-only admin API ------------------------------------------------------

    def admin(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("content-type", "application/json")
        with urllib.request.urlopen(request, timeout=CALL_TIMEOUT_MS / 1000) as response:
            text = response.read().decode("utf-8")
        try:
            return json.loads(text) if text else None
        except json.JSONDecodeError:
            return text

    # --- official SDK clients ---------------------------------------------------------

    def vpc(self, access_key_id=ACCESS_KEY_ID, access_key_secret=ACCESS_KEY_SECRET, **config) -> VpcClient:
        """The official VPC client, pointed at this simulator over plain HTTP."""
        return VpcClient(self.config(access_key_id, access_key_secret, **config))

    def config(self, access_key_id=ACCESS_KEY_ID, access_key_secret=ACCESS_KEY_SECRET, **config):
        return open_api_models.Config(
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            endpoint=self.endpoint,
            protocol="http",
            region_id=REGION,
            read_timeout=CALL_TIMEOUT_MS,
            connect_timeout=CALL_TIMEOUT_MS,
            no_proxy="127.0.0.1,localhost",
            **config,
        )


# --- helpers shared by the tests -----------------------------------------------------------


def describe_request(circuit=CIRCUIT, region=REGION):
    return vpc_models.DescribePhysicalConnectionsRequest(
        region_id=region,
        filter=[vpc_models.DescribePhysicalConnectionsRequestFilter(key="PhysicalConnectionId", value=[circuit])],
    )


def associate_request(ckn, cak, suite=SUITE, circuit=CIRCUIT, region=REGION):
    return vpc_models.AssociateMacSecKeyRequest(
        region_id=region, physical_connection_id=circuit, cipher_suite=suite, ckn=ckn, cak=cak
    )


def disassociate_request(ckn, circuit=CIRCUIT, region=REGION):
    return vpc_models.DisassociateMacSecKeyRequest(region_id=region, physical_connection_id=circuit, ckn=ckn)


def keys_of(client: VpcClient, circuit=CIRCUIT) -> dict:
    """{CKN: MacsecKey model} of one circuit, read with DescribePhysicalConnections."""
    body = client.describe_physical_connections(describe_request(circuit)).body
    circuits = body.physical_connection_set.physical_connection_type
    assert [c.physical_connection_id for c in circuits] == [circuit]
    keys = circuits[0].macsec_keys.macsec_key if circuits[0].macsec_keys else []
    return {key.ckn: key for key in keys or []}


def statuses(client: VpcClient, circuit=CIRCUIT) -> dict:
    return {ckn: key.status for ckn, key in keys_of(client, circuit).items()}


def sdk_error(call) -> TeaException:
    """Runs an SDK call that must fail and returns the SDK's exception."""
    with pytest.raises(TeaException) as caught:
        call()
    return caught.value

"""The official Alibaba Cloud Python SDK (alibabacloud_vpc20160428 on alibabacloud_tea_openapi)
against the project's simulator, unchanged but for the endpoint and plain HTTP.

Each test starts its own simulator (see conftest.py), so tests never share state.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse

import pytest
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.exceptions import ThrottlingException
from alibabacloud_vpc20160428.client import Client as VpcClient
from darabonba.core import DaraCore

import sts_client
from sdk_calls import associate_in_form_body
from simulator import (
    ACCESS_KEY_SECRET,
    CAK_A,
    CAK_B,
    CAK_C,
    CAK_D,
    CAK_E,
    CIRCUIT,
    CKN_A,
    CKN_B,
    CKN_C,
    CKN_D,
    CKN_E,
    DEFAULT_SEED,
    REGION,
    START_A,
    START_B,
    SUITE,
    associate_request,
    describe_request,
    disassociate_request,
    keys_of,
    sdk_error,
    statuses,
)

ERROR_FIELDS = {"RequestId", "HostId", "Code", "Message", "Recommend"}

# --- every action succeeds ---------------------------------------------------------------


def test_describe_filtered_by_circuit_shows_the_seeded_keys(sim):
    response = sim.vpc().describe_physical_connections(describe_request())
    assert response.status_code == 200
    body = response.body
    assert body.request_id
    assert body.total_count == 1
    (circuit,) = body.physical_connection_set.physical_connection_type
    assert circuit.physical_connection_id == CIRCUIT
    assert circuit.status == "Enabled"
    keys = {key.ckn: key for key in circuit.macsec_keys.macsec_key}
    assert set(keys) == {CKN_A, CKN_B}
    assert (keys[CKN_A].status, keys[CKN_A].cipher_suite, keys[CKN_A].start_on) == ("Associated", SUITE, START_A)
    assert (keys[CKN_B].status, keys[CKN_B].cipher_suite, keys[CKN_B].start_on) == ("Disassociated", SUITE, START_B)


def test_describe_of_an_unknown_circuit_is_empty(sim):
    body = sim.vpc().describe_physical_connections(describe_request("pc-doesnotexist0000")).body
    assert body.total_count == 0
    circuits = body.physical_connection_set.physical_connection_type if body.physical_connection_set else []
    assert not circuits


def test_associate_a_new_key_replaces_the_active_one(sim):
    client = sim.vpc()
    response = client.associate_mac_sec_key(associate_request(CKN_C, CAK_C))
    assert response.status_code == 200 and response.body.request_id
    assert statuses(client) == {CKN_A: "Disassociated", CKN_B: "Disassociated", CKN_C: "Associated"}
    assert keys_of(client)[CKN_C].start_on  # activation time is reported


def test_associate_stores_lower_case_hex_upper_case(sim):
    client = sim.vpc()
    client.disassociate_mac_sec_key(disassociate_request(CKN_B))  # make room: B is deleted
    client.associate_mac_sec_key(associate_request(CKN_E.lower(), CAK_E))
    assert statuses(client) == {CKN_A: "Disassociated", CKN_E.upper(): "Associated"}


def test_disassociate_the_active_key_activates_the_most_recent_other(sim):
    client = sim.vpc()
    response = client.disassociate_mac_sec_key(disassociate_request(CKN_A))
    assert response.status_code == 200 and response.body.request_id
    assert statuses(client) == {CKN_A: "Disassociated", CKN_B: "Associated"}


def test_deleting_an_associated_key_takes_two_calls(sim):
    client = sim.vpc()
    client.associate_mac_sec_key(associate_request(CKN_C, CAK_C))
    # C is Associated: the first call disassociates it (the most recent other, A, takes over)...
    client.disassociate_mac_sec_key(disassociate_request(CKN_C))
    assert statuses(client) == {CKN_A: "Associated", CKN_B: "Disassociated", CKN_C: "Disassociated"}
    # ...the second call deletes it.
    client.disassociate_mac_sec_key(disassociate_request(CKN_C))
    assert statuses(client) == {CKN_A: "Associated", CKN_B: "Disassociated"}


def test_reassociating_a_disassociated_key(sim):
    client = sim.vpc()
    client.associate_mac_sec_key(associate_request(CKN_B, CAK_B))
    assert statuses(client) == {CKN_A: "Disassociated", CKN_B: "Associated"}


# --- the legacy HMAC-SHA1 signature -------------------------------------------------------


def test_every_action_with_the_legacy_signature(sim):
    client = sim.vpc(signature_algorithm="v2")
    assert statuses(client) == {CKN_A: "Associated", CKN_B: "Disassociated"}
    client.associate_mac_sec_key(associate_request(CKN_C, CAK_C))
    assert statuses(client)[CKN_C] == "Associated"
    client.disassociate_mac_sec_key(disassociate_request(CKN_C))
    client.disassociate_mac_sec_key(disassociate_request(CKN_C))
    assert CKN_C not in statuses(client)


def test_legacy_signature_with_a_wrong_secret(sim):
    error = sdk_error(lambda: sim.vpc(access_key_secret="not-the-secret", signature_algorithm="v2")
                      .describe_physical_connections(describe_request()))
    assert error.code == "SignatureDoesNotMatch", error.data


# --- parameters in a form body (keeps the CAK out of URLs), through the SDK's call_api ----


def _form_body_associate(client: OpenApiClient, ckn, cak):
    call = associate_in_form_body(
        client, protocol="HTTP", region=REGION, circuit=CIRCUIT, suite=SUITE, ckn=ckn, cak=cak
    )
    return call()


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["acs3", "hmac-sha1"])
def test_form_body_parameters(sim, algorithm, monkeypatch):
    sent = _record_requests(monkeypatch)
    client = OpenApiClient(sim.config(signature_algorithm=algorithm))
    response = _form_body_associate(client, CKN_C, CAK_C)
    assert response["statusCode"] == 200 and response["body"]["RequestId"]
    (request,) = sent
    body = request.body.decode("utf-8") if isinstance(request.body, bytes) else request.body
    assert "Cak" not in request.query and f"Cak={CAK_C}" in body
    assert statuses(sim.vpc())[CKN_C] == "Associated"


# --- error codes as the SDK sees them -----------------------------------------------------


def _assert_error(error, code, status=None):
    assert error.code == code, f"expected {code}, got {error.code}: {error.data}"
    assert isinstance(error.data, dict) and ERROR_FIELDS <= set(error.data), error.data
    assert error.data["Code"] == code
    if status is not None:
        assert error.status_code == status, error.data


def test_wrong_secret_is_signature_does_not_match(sim):
    error = sdk_error(lambda: sim.vpc(access_key_secret="not-the-secret")
                      .describe_physical_connections(describe_request()))
    _assert_error(error, "SignatureDoesNotMatch", 400)


def test_unknown_access_key_id(sim):
    error = sdk_error(lambda: sim.vpc(access_key_id="LTAI5tNobodyHasThisKey1")
                      .describe_physical_connections(describe_request()))
    _assert_error(error, "InvalidAccessKeyId.NotFound", 404)


def test_fourth_key_is_refused(sim):
    client = sim.vpc()
    client.associate_mac_sec_key(associate_request(CKN_C, CAK_C))
    error = sdk_error(lambda: client.associate_mac_sec_key(associate_request(CKN_D, CAK_D)))
    # The API reference allows three keys a port and names no code for a fourth; the
    # simulator documents QuotaExceeded.PconnMacsec (src/sim/error.rs).
    _assert_error(error, "QuotaExceeded.PconnMacsec", 400)
    assert CKN_D not in statuses(client)


def test_disassociating_an_unknown_ckn(sim):
    error = sdk_error(lambda: sim.vpc().disassociate_mac_sec_key(disassociate_request(CKN_D)))
    _assert_error(error, "ResourceNotFound.PconnMacsec", 400)


@pytest.mark.parametrize("bad_ckn", ["ABC", "G" * 32, "0" * 33], ids=["short", "not-hex", "33-chars"])
def test_a_malformed_ckn_is_illegal_param(sim, bad_ckn):
    client = sim.vpc()
    _assert_error(sdk_error(lambda: client.associate_mac_sec_key(associate_request(bad_ckn, CAK_C))),
                  "IllegalParam.Ckn", 400)
    _assert_error(sdk_error(lambda: client.disassociate_mac_sec_key(disassociate_request(bad_ckn))),
                  "IllegalParam.Ckn", 400)


def test_an_unknown_circuit(sim):
    error = sdk_error(lambda: sim.vpc().disassociate_mac_sec_key(disassociate_request(CKN_A, circuit="pc-nosuchcircuit01")))
    _assert_error(error, "ResourceNotFound.PhysicalConnectionId", 400)


def test_a_circuit_that_is_not_enabled(start_sim):
    sim = start_sim(seed=DEFAULT_SEED.replace("status: Enabled", "status: Terminated"))
    error = sdk_error(lambda: sim.vpc().associate_mac_sec_key(associate_request(CKN_C, CAK_C)))
    _assert_error(error, "IncorrectStatus.PhysicalConnection", 400)


def test_a_key_in_its_unstable_window(start_sim):
    # A window far longer than the test: no timing guess involved.
    sim = start_sim("--unstable-window", "10m")
    client = sim.vpc()
    client.associate_mac_sec_key(associate_request(CKN_C, CAK_C))
    error = sdk_error(lambda: client.disassociate_mac_sec_key(disassociate_request(CKN_C)))
    _assert_error(error, "IncorrectStatus.PconnMacsec", 400)


# --- replay: the same signed request twice -------------------------------------------------


def _record_requests(monkeypatch) -> list:
    """Wraps the SDK's HTTP send so the requests it sends are recorded, then sent as usual."""
    sent = []
    original = DaraCore.do_action

    def recording_do_action(request, runtime_option=None):
        sent.append(request)
        return original(request, runtime_option)

    monkeypatch.setattr(DaraCore, "do_action", staticmethod(recording_do_action))
    return sent


def _resend(sim, request, **query_overrides) -> tuple[int, dict]:
    """Sends a recorded SDK request again, byte for byte but for `query_overrides`."""
    query = {k: str(v) for k, v in request.query.items() if v is not None}
    query.update(query_overrides)
    target = request.pathname + ("?" + urllib.parse.urlencode(query) if query else "")
    body = request.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = {k: str(v) for k, v in request.headers.items() if v is not None}
    connection = http.client.HTTPConnection(sim.host, sim.port, timeout=15)
    try:
        connection.request(request.method, target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read().decode("utf-8"))
    finally:
        connection.close()


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["acs3", "hmac-sha1"])
def test_a_replayed_request_is_refused(sim, monkeypatch, algorithm):
    sent = _record_requests(monkeypatch)
    client = sim.vpc(signature_algorithm=algorithm)
    client.describe_physical_connections(describe_request())
    (request,) = sent
    status, body = _resend(sim, request)
    assert body.get("Code") == "SignatureNonceUsed", body
    assert status == 400 and ERROR_FIELDS <= set(body)


def _capture_unsent(monkeypatch, call):
    """The request the SDK would send for `call`, recorded instead of sent."""
    captured = []

    class Captured(Exception):
        pass

    def recording_do_action(request, runtime_option=None):
        captured.append(request)
        raise Captured()

    with monkeypatch.context() as patch:
        patch.setattr(DaraCore, "do_action", staticmethod(recording_do_action))
        with pytest.raises(Exception):
            call()
    (request,) = captured
    return request


def test_a_captured_request_sent_by_hand(sim, monkeypatch):
    """The hand-sent copies of SDK requests are faithful: valid once, refused when replayed
    or changed."""
    client = sim.vpc()
    first = _capture_unsent(monkeypatch, lambda: client.disassociate_mac_sec_key(disassociate_request(CKN_B)))
    second = _capture_unsent(monkeypatch, lambda: client.disassociate_mac_sec_key(disassociate_request(CKN_B)))
    # Same signature and headers, another key: the signature covers the query.
    status, body = _resend(sim, second, Ckn=CKN_A)
    assert (status, body.get("Code")) == (400, "SignatureDoesNotMatch"), body
    assert statuses(client) == {CKN_A: "Associated", CKN_B: "Disassociated"}
    # The untouched request works once...
    status, body = _resend(sim, first)
    assert status == 200 and body.get("RequestId"), body
    assert statuses(client) == {CKN_A: "Associated"}
    # ...and only once.
    status, body = _resend(sim, first)
    assert (status, body.get("Code")) == (400, "SignatureNonceUsed"), body


# --- faults --------------------------------------------------------------------------------


def test_throttling(start_sim):
    sim = start_sim("--throttle-share", "1")
    client = sim.vpc()
    calls = [
        lambda: client.describe_physical_connections(describe_request()),
        lambda: client.associate_mac_sec_key(associate_request(CKN_C, CAK_C)),
        lambda: client.disassociate_mac_sec_key(disassociate_request(CKN_A)),
    ]
    for call in calls:
        _assert_error(sdk_error(call), "Throttling.User")


def test_throttling_hint_reaches_the_sdk(start_sim):
    sim = start_sim("--throttle-share", "1")
    error = sdk_error(lambda: sim.vpc().describe_physical_connections(describe_request()))
    assert error.code == "Throttling.User"
    assert isinstance(error, ThrottlingException) and error.retry_after, type(error)


def test_faults_changed_at_run_time_through_the_admin_api(sim):
    client = sim.vpc()
    sim.admin("PUT", "/_sim/faults", {"throttleShare": 1.0})
    _assert_error(sdk_error(lambda: client.describe_physical_connections(describe_request())), "Throttling.User")
    sim.admin("PUT", "/_sim/faults", {
        "forcedErrors": [{"action": "DisassociateMacSecKey", "code": "IncorrectStatus.PconnMacsec", "count": 1}],
    })
    _assert_error(sdk_error(lambda: client.disassociate_mac_sec_key(disassociate_request(CKN_B))),
                  "IncorrectStatus.PconnMacsec", 400)
    client.disassociate_mac_sec_key(disassociate_request(CKN_B))  # the forced error was used up
    assert statuses(client) == {CKN_A: "Associated"}


def test_admin_state_and_calls_agree_with_the_sdk(sim):
    client = sim.vpc()
    client.associate_mac_sec_key(associate_request(CKN_C, CAK_C))
    sdk_error(lambda: client.disassociate_mac_sec_key(disassociate_request(CKN_D)))
    described = statuses(client)
    state = sim.admin("GET", "/_sim/state")
    (circuit,) = state["circuits"]
    assert circuit["physicalConnectionId"] == CIRCUIT
    assert {key["ckn"]: key["status"] for key in circuit["keys"]} == described
    assert CAK_C not in json.dumps(state) and CAK_A not in json.dumps(state)
    calls = sim.admin("GET", "/_sim/calls")
    assert calls["AssociateMacSecKey"] == {"OK": 1}
    assert calls["DisassociateMacSecKey"] == {"ResourceNotFound.PconnMacsec": 1}
    assert calls["DescribePhysicalConnections"] == {"OK": 1}


def test_internal_errors(start_sim):
    sim = start_sim("--error-share", "1")
    error = sdk_error(lambda: sim.vpc().describe_physical_connections(describe_request()))
    _assert_error(error, "InternalError", 500)


# --- STS AssumeRoleWithOIDC, then the VPC API with the temporary credentials -------------


def test_sts_through_the_official_credentials_library(sim, tmp_path):
    """RRSA the way an SDK user on ACK does it: the VPC client takes an `oidc_role_arn`
    credential, which calls AssumeRoleWithOIDC and signs with the temporary key and token."""
    credential = sts_client.official_oidc_credentials(sim, tmp_path)
    temporary = credential.get_credential()
    assert temporary.access_key_id.startswith("STS.") and temporary.security_token
    sim.secrets.update({temporary.access_key_secret, temporary.security_token})
    for algorithm in (None, "v2"):
        config = sim.config(access_key_id=None, access_key_secret=None, signature_algorithm=algorithm)
        config.credential = credential
        client = VpcClient(config)
        assert statuses(client) == {CKN_A: "Associated", CKN_B: "Disassociated"}
    client.associate_mac_sec_key(associate_request(CKN_C, CAK_C))
    assert statuses(client)[CKN_C] == "Associated"


def test_sts_by_form_post_then_temporary_credentials(sim):
    status, body = sts_client.form_post(sim)
    assert status == 200, body
    credentials = body["Credentials"]
    assert body["RequestId"] and credentials["Expiration"].endswith("Z")
    key_id, secret, token = credentials["AccessKeyId"], credentials["AccessKeySecret"], credentials["SecurityToken"]
    sim.secrets.update({secret, token})
    for algorithm in (None, "v2"):
        client = sim.vpc(access_key_id=key_id, access_key_secret=secret, security_token=token,
                         signature_algorithm=algorithm)
        assert statuses(client) == {CKN_A: "Associated", CKN_B: "Disassociated"}
    # The temporary key without its token, or with another token, is refused.
    for wrong in (None, token[:-4] + "AAAA"):
        client = sim.vpc(access_key_id=key_id, access_key_secret=secret, security_token=wrong)
        error = sdk_error(lambda: client.describe_physical_connections(describe_request()))
        assert error.code == "InvalidSecurityToken.Mismatch", error.data


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"RoleArn": "arn:aws:iam::123:role/x"}, "InvalidParameter.RoleArn"),
        ({"DurationSeconds": "60"}, "InvalidParameter.DurationSeconds"),
        ({"OIDCToken": None}, "MissingOIDCToken"),
    ],
    ids=["role-arn", "duration", "no-token"],
)
def test_sts_refuses_bad_requests(sim, overrides, code):
    status, body = sts_client.form_post(sim, **overrides)
    assert (status, body.get("Code")) == (400, code), body
    assert ERROR_FIELDS <= set(body)


# --- what the simulator prints ---------------------------------------------------------------


def test_the_log_shows_every_call_but_no_secret(sim):
    wrong_cak = "9A" * 16
    sim.secrets.add(wrong_cak)
    client = sim.vpc()
    client.describe_physical_connections(describe_request())
    client.associate_mac_sec_key(associate_request(CKN_C, CAK_C))
    client.associate_mac_sec_key(associate_request(CKN_C, CAK_C.lower()))  # the lower-case form too
    sdk_error(lambda: client.associate_mac_sec_key(associate_request(CKN_D, CAK_D)))
    sdk_error(lambda: client.associate_mac_sec_key(associate_request(CKN_A, wrong_cak)))
    sdk_error(lambda: sim.vpc(access_key_secret="wrong").associate_mac_sec_key(associate_request(CKN_D, CAK_D)))
    sim.vpc(signature_algorithm="v2").associate_mac_sec_key(associate_request(CKN_A, CAK_A))
    client.disassociate_mac_sec_key(disassociate_request(CKN_C))
    actions = ("DescribePhysicalConnections", "AssociateMacSecKey", "DisassociateMacSecKey")
    codes = ("QuotaExceeded.PconnMacsec", "IllegalParam.Cak", "SignatureDoesNotMatch")
    sim.wait_for_stdout(*actions, *codes)
    sim.stop()
    stdout = sim.stdout()
    assert len([line for line in stdout.splitlines() if any(a in line for a in actions)]) >= 8, stdout
    assert sim.leaked_secrets() == []
    assert ACCESS_KEY_SECRET not in stdout and CAK_C not in stdout and CAK_C.lower() not in stdout

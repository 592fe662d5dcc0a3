"""Signature vectors computed by the official Alibaba Cloud Python SDK.

Two kinds of vectors:

* hand-made requests (fixed method, path, query, headers and body) signed with the SDK's
  own functions: ``alibabacloud_tea_openapi.utils.Utils.get_authorization`` (ACS3, what
  ``alibabacloud_tea_openapi.client.Client.do_request`` calls) and
  ``Utils.get_rpcsignature`` (HMAC-SHA1, what ``Client.do_rpcrequest`` calls). Each is
  cross-checked against the older standalone package ``alibabacloud_openapi_util``
  (``alibabacloud_openapi_util.client.Client``), which carries the same functions;
* requests captured from the SDK's real request pipeline (``alibabacloud_vpc20160428``
  ``Client`` methods and ``OpenApiClient.call_api``), with the clock, the nonce and the
  user agent pinned and the HTTP send replaced by a recorder, so the header set and
  parameter layout are exactly what the SDK puts on the wire.

``build_acs3_vectors()`` and ``build_rpc_vectors()`` return the JSON-ready lists written
to ``tests/vectors/acs3_sdk.json`` and ``tests/vectors/rpc_sdk.json``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from urllib.parse import parse_qsl

from alibabacloud_openapi_util.client import Client as LegacyOpenApiUtil
from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.utils import Utils as OpenApiUtils
from alibabacloud_vpc20160428 import models as vpc_models
from alibabacloud_vpc20160428.client import Client as VpcClient
from darabonba.core import DaraCore
from darabonba.request import DaraRequest
from sdk_calls import associate_in_form_body

REPO = Path(__file__).resolve().parent.parent
ACS3_FILE = REPO / "tests" / "vectors" / "acs3_sdk.json"
RPC_FILE = REPO / "tests" / "vectors" / "rpc_sdk.json"

ACS3 = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

# Made-up credentials: these vectors only need to be fixed, not valid anywhere.
AK_ID = "LTAI5tConformanceKeyId01"
AK_SECRET = "ConformanceSecretValue0123456789"
STS_ID = "STS.NUgYrLnoC37mZZCNnAbez9kXz"
STS_SECRET = "StsTemporarySecretValue0123456789ab"
STS_TOKEN = "CAIS8gF1q6Ft5B2yfSjIr5bSEsKDoL1z0vW+ZX7pLvM/h+Zf3oTPsjz2IHhMenRqAOEZs/4yn2pW6vgblrt6SpUAHxGbL9GBvFx0x+Dq3Sx6OfhNeKjdHOqGC2CK/0x0+Kvy4zxF3rD9jQ=="
DATE = "2026-03-04T05:06:07Z"
NONCE = "7d3f2a9c0b1e4d5f8a6b9c0d1e2f3a4b"
USER_AGENT = "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2 conformance"

CIRCUIT = "pc-bp1hp0wr072f6abcd"
REGION = "cn-hangzhou"
CKN = "0123456789ABCDEF0123456789ABCDEF"
CAK = "FEDCBA9876543210FEDCBA9876543210"
CKN_256 = "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"
CAK_256 = "FFEEDDCCBBAA99887766554433221100FFEEDDCCBBAA99887766554433221100"


def _request(method, path, query, headers):
    request = DaraRequest()
    request.method = method
    request.pathname = path
    request.query = dict(query)
    request.headers = dict(headers)
    return request


def sdk_acs3_authorization(vector: dict) -> str:
    """The SDK's ACS3 Authorization for one hand-made vector (both SDK copies must agree)."""
    assert len({k for k, _ in vector["query"]}) == len(vector["query"]), "query names repeat"
    assert len({k.lower() for k, _ in vector["headers"]}) == len(vector["headers"]), "header names repeat"
    payload = OpenApiUtils.hash(vector["body"].encode("utf-8"), ACS3).hex()
    args = (vector["method"], vector["path"], vector["query"], vector["headers"])
    current = OpenApiUtils.get_authorization(
        _request(*args), ACS3, payload, vector["access_key_id"], vector["access_key_secret"]
    )
    legacy = LegacyOpenApiUtil.get_authorization(
        _request(*args), ACS3, payload, vector["access_key_id"], vector["access_key_secret"]
    )
    assert current == legacy, f"the two SDK signers disagree on {vector['name']}: {current} / {legacy}"
    return current


def sdk_rpc_signature(vector: dict) -> str:
    """The SDK's legacy HMAC-SHA1 signature for one hand-made vector."""
    params = dict(vector["params"])
    assert len(params) == len(vector["params"]), "parameter names repeat"
    current = OpenApiUtils.get_rpcsignature(dict(params), vector["method"], vector["access_key_secret"])
    legacy = LegacyOpenApiUtil.get_rpcsignature(dict(params), vector["method"], vector["access_key_secret"])
    assert current == legacy, f"the two SDK signers disagree on {vector['name']}: {current} / {legacy}"
    return current


def _acs3_headers(action, version, host, extra=(), body=""):
    headers = [
        ("host", host),
        ("x-acs-action", action),
        ("x-acs-version", version),
        ("x-acs-date", DATE),
        ("x-acs-signature-nonce", NONCE),
        ("x-acs-content-sha256", hashlib.sha256(body.encode("utf-8")).hexdigest()),
    ]
    return headers + list(extra)


VPC_HOST = f"vpc.{REGION}.aliyuncs.com"
VPC_VERSION = "2016-04-28"


def _hand_made_acs3():
    form_params = {
        "RegionId": REGION,
        "PhysicalConnectionId": CIRCUIT,
        "CipherSuite": "GCM-AES-256",
        "Ckn": CKN_256,
        "Cak": CAK_256,
    }
    # The SDK's own form encoder, as do_request uses it for a formData body.
    form_body = OpenApiUtils.to_form(form_params)
    odd_value = "a b*c~d/e+f=g&h%i é 中文 ✓"
    return [
        {
            # "V3 request structure and signature", Alibaba Cloud's published example.
            "name": "published_example_run_instances",
            "method": "POST",
            "path": "/",
            "query": [
                ["ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"],
                ["RegionId", "cn-shanghai"],
            ],
            "headers": [
                ["host", "ecs.cn-shanghai.aliyuncs.com"],
                ["x-acs-action", "RunInstances"],
                ["x-acs-version", "2014-05-26"],
                ["x-acs-date", "2023-10-26T10:22:32Z"],
                ["x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"],
                ["x-acs-content-sha256", EMPTY_SHA256],
            ],
            "body": "",
            "access_key_id": "YourAccessKeyId",
            "access_key_secret": "YourAccessKeySecret",
        },
        {
            "name": "describe_physical_connections_filtered",
            "method": "POST",
            "path": "/",
            "query": [
                ["RegionId", REGION],
                ["Filter.1.Key", "PhysicalConnectionId"],
                ["Filter.1.Value.1", CIRCUIT],
                ["PageNumber", "1"],
                ["PageSize", "50"],
            ],
            "headers": _acs3_headers("DescribePhysicalConnections", VPC_VERSION, VPC_HOST),
            "body": "",
            "access_key_id": AK_ID,
            "access_key_secret": AK_SECRET,
        },
        {
            "name": "associate_mac_sec_key",
            "method": "POST",
            "path": "/",
            "query": [
                ["RegionId", REGION],
                ["PhysicalConnectionId", CIRCUIT],
                ["CipherSuite", "GCM-AES-128"],
                ["Ckn", CKN],
                ["Cak", CAK],
            ],
            "headers": _acs3_headers("AssociateMacSecKey", VPC_VERSION, VPC_HOST),
            "body": "",
            "access_key_id": AK_ID,
            "access_key_secret": AK_SECRET,
        },
        {
            "name": "disassociate_mac_sec_key",
            "method": "POST",
            "path": "/",
            "query": [["RegionId", REGION], ["PhysicalConnectionId", CIRCUIT], ["Ckn", CKN]],
            "headers": _acs3_headers("DisassociateMacSecKey", VPC_VERSION, VPC_HOST),
            "body": "",
            "access_key_id": AK_ID,
            "access_key_secret": AK_SECRET,
        },
        {
            "name": "query_values_needing_percent_encoding",
            "method": "POST",
            "path": "/",
            "query": [
                ["RegionId", REGION],
                ["Description", odd_value],
                ["Name", "~tilde*star space"],
                ["Path", "/a/b/c"],
                ["Plus", "1+1=2"],
                ["Amp", "x&y=z"],
            ],
            "headers": _acs3_headers("DescribePhysicalConnections", VPC_VERSION, VPC_HOST),
            "body": "",
            "access_key_id": AK_ID,
            "access_key_secret": AK_SECRET,
        },
        {
            "name": "empty_string_value",
            "method": "POST",
            "path": "/",
            "query": [["RegionId", REGION], ["Description", ""], ["Name", "z"]],
            "headers": _acs3_headers("DescribePhysicalConnections", VPC_VERSION, VPC_HOST),
            "body": "",
            "access_key_id": AK_ID,
            "access_key_secret": AK_SECRET,
        },
        {
            # How do_request signs with STS credentials: the token and the key id travel
            # as x-acs-* headers and are signed.
            "name": "sts_security_token",
            "method": "POST",
            "path": "/",
            "query": [["RegionId", REGION], ["PhysicalConnectionId", CIRCUIT], ["Ckn", CKN]],
            "headers": _acs3_headers(
                "DisassociateMacSecKey",
                VPC_VERSION,
                VPC_HOST,
                extra=[("x-acs-accesskey-id", STS_ID), ("x-acs-security-token", STS_TOKEN)],
            ),
            "body": "",
            "access_key_id": STS_ID,
            "access_key_secret": STS_SECRET,
        },
        {
            # Parameters in a form body (keeps the CAK out of URLs): the body is hashed.
            "name": "form_encoded_body",
            "method": "POST",
            "path": "/",
            "query": [],
            "headers": _acs3_headers(
                "AssociateMacSecKey",
                VPC_VERSION,
                VPC_HOST,
                extra=[("content-type", "application/x-www-form-urlencoded")],
                body=form_body,
            ),
            "body": form_body,
            "access_key_id": AK_ID,
            "access_key_secret": AK_SECRET,
        },
        {
            # Header names in any case and values with outer whitespace: names are
            # lowercased and values trimmed before signing.
            "name": "header_case_and_whitespace",
            "method": "POST",
            "path": "/",
            "query": [["RegionId", REGION]],
            "headers": [
                ["Host", VPC_HOST],
                ["X-Acs-Action", "DescribePhysicalConnections"],
                ["X-ACS-Version", VPC_VERSION],
                ["x-acs-date", f"  {DATE} "],
                ["x-acs-signature-nonce", NONCE],
                ["X-Acs-Content-Sha256", EMPTY_SHA256],
            ],
            "body": "",
            "access_key_id": AK_ID,
            "access_key_secret": AK_SECRET,
        },
    ]


def _hand_made_rpc():
    common = [
        ["AccessKeyId", AK_ID],
        ["Format", "JSON"],
        ["SignatureMethod", "HMAC-SHA1"],
        ["SignatureNonce", NONCE],
        ["SignatureVersion", "1.0"],
        ["Timestamp", DATE],
        ["Version", VPC_VERSION],
    ]
    return [
        {
            # Alibaba Cloud's published HMAC-SHA1 example.
            "name": "published_example_describe_regions",
            "method": "GET",
            "params": [
                ["AccessKeyId", "testid"],
                ["Action", "DescribeRegions"],
                ["Format", "XML"],
                ["SignatureMethod", "HMAC-SHA1"],
                ["SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"],
                ["SignatureVersion", "1.0"],
                ["Timestamp", "2016-02-23T12:46:24Z"],
                ["Version", "2014-05-26"],
            ],
            "access_key_secret": "testsecret",
        },
        {
            "name": "associate_mac_sec_key",
            "method": "POST",
            "params": common
            + [
                ["Action", "AssociateMacSecKey"],
                ["RegionId", REGION],
                ["PhysicalConnectionId", CIRCUIT],
                ["CipherSuite", "GCM-AES-128"],
                ["Ckn", CKN],
                ["Cak", CAK],
            ],
            "access_key_secret": AK_SECRET,
        },
        {
            "name": "describe_physical_connections_filtered",
            "method": "POST",
            "params": common
            + [
                ["Action", "DescribePhysicalConnections"],
                ["RegionId", REGION],
                ["Filter.1.Key", "PhysicalConnectionId"],
                ["Filter.1.Value.1", CIRCUIT],
            ],
            "access_key_secret": AK_SECRET,
        },
        {
            "name": "values_needing_percent_encoding_and_empty",
            "method": "POST",
            "params": common
            + [
                ["Action", "DescribePhysicalConnections"],
                ["RegionId", REGION],
                ["Description", "a b*c~d/e+f=g&h%i é 中文 ✓"],
                ["Name", ""],
            ],
            "access_key_secret": AK_SECRET,
        },
        {
            "name": "sts_security_token",
            "method": "POST",
            "params": [[k, STS_ID if k == "AccessKeyId" else v] for k, v in common]
            + [
                ["Action", "DisassociateMacSecKey"],
                ["RegionId", REGION],
                ["PhysicalConnectionId", CIRCUIT],
                ["Ckn", CKN],
                ["SecurityToken", STS_TOKEN],
            ],
            "access_key_secret": STS_SECRET,
        },
    ]


# ---------------------------------------------------------------------------------------
# Capturing the SDK's real request pipeline.


class _Captured(Exception):
    pass


@contextlib.contextmanager
def _pinned_sdk(captured: list):
    """Pins the SDK's clock, nonce and user agent, and records instead of sending."""
    saved = {
        "get_timestamp": OpenApiUtils.__dict__["get_timestamp"],
        "get_nonce": OpenApiUtils.__dict__["get_nonce"],
        "get_user_agent": OpenApiUtils.__dict__["get_user_agent"],
        "do_action": DaraCore.__dict__["do_action"],
    }

    def do_action(request, runtime=None):
        captured.append(request)
        raise _Captured()

    OpenApiUtils.get_timestamp = staticmethod(lambda: DATE)
    OpenApiUtils.get_nonce = staticmethod(lambda: NONCE)
    OpenApiUtils.get_user_agent = staticmethod(lambda user_agent=None: USER_AGENT)
    DaraCore.do_action = staticmethod(do_action)
    try:
        yield
    finally:
        for name in ("get_timestamp", "get_nonce", "get_user_agent"):
            setattr(OpenApiUtils, name, saved[name])
        DaraCore.do_action = saved["do_action"]


def _capture(call) -> DaraRequest:
    captured: list = []
    with _pinned_sdk(captured):
        try:
            call()
        except Exception:  # the recorder aborts the call; the SDK wraps that
            pass
    assert len(captured) == 1, f"expected one request, the SDK sent {len(captured)}"
    return captured[0]


def _config(signature_algorithm=None, sts=False):
    return open_api_models.Config(
        access_key_id=STS_ID if sts else AK_ID,
        access_key_secret=STS_SECRET if sts else AK_SECRET,
        security_token=STS_TOKEN if sts else None,
        endpoint=VPC_HOST,
        region_id=REGION,
        signature_algorithm=signature_algorithm,
    )


def _vpc_calls(client: VpcClient):
    describe = vpc_models.DescribePhysicalConnectionsRequest(
        region_id=REGION,
        filter=[
            vpc_models.DescribePhysicalConnectionsRequestFilter(key="PhysicalConnectionId", value=[CIRCUIT])
        ],
    )
    associate = vpc_models.AssociateMacSecKeyRequest(
        region_id=REGION, physical_connection_id=CIRCUIT, cipher_suite="GCM-AES-128", ckn=CKN, cak=CAK
    )
    disassociate = vpc_models.DisassociateMacSecKeyRequest(
        region_id=REGION, physical_connection_id=CIRCUIT, ckn=CKN
    )
    return {
        "describe_physical_connections": lambda: client.describe_physical_connections(describe),
        "associate_mac_sec_key": lambda: client.associate_mac_sec_key(associate),
        "disassociate_mac_sec_key": lambda: client.disassociate_mac_sec_key(disassociate),
    }


def _form_body_call(client: OpenApiClient):
    """AssociateMacSecKey through the SDK's generic call_api with the parameters in a form body."""
    return associate_in_form_body(
        client, protocol="HTTPS", region=REGION, circuit=CIRCUIT, suite="GCM-AES-128", ckn=CKN, cak=CAK
    )


def _pipeline_acs3():
    vectors = []
    calls = dict(_vpc_calls(VpcClient(_config())))
    calls["sts_disassociate_mac_sec_key"] = _vpc_calls(VpcClient(_config(sts=True)))["disassociate_mac_sec_key"]
    calls["form_body_associate_mac_sec_key"] = _form_body_call(OpenApiClient(_config()))
    for name, call in calls.items():
        request = _capture(call)
        headers = {k: v for k, v in request.headers.items() if k != "Authorization"}
        sts = name.startswith("sts_")
        vectors.append(
            {
                "name": f"sdk_pipeline_{name}",
                "method": request.method,
                "path": request.pathname,
                "query": [[k, v] for k, v in request.query.items() if v is not None],
                "headers": [[k, v] for k, v in headers.items() if v is not None],
                "body": request.body or "",
                "access_key_id": STS_ID if sts else AK_ID,
                "access_key_secret": STS_SECRET if sts else AK_SECRET,
                "expected_authorization": request.headers["Authorization"],
            }
        )
    return vectors


def _pipeline_rpc():
    vectors = []
    calls = {
        "associate_mac_sec_key": _vpc_calls(VpcClient(_config("v2")))["associate_mac_sec_key"],
        "describe_physical_connections": _vpc_calls(VpcClient(_config("v2")))["describe_physical_connections"],
        "sts_disassociate_mac_sec_key": _vpc_calls(VpcClient(_config("v2", sts=True)))["disassociate_mac_sec_key"],
        "form_body_associate_mac_sec_key": _form_body_call(OpenApiClient(_config("v2"))),
    }
    for name, call in calls.items():
        request = _capture(call)
        params = {k: v for k, v in request.query.items() if k != "Signature" and v is not None}
        if request.body:
            # do_rpcrequest signs the body's parameters together with the query's.
            for key, value in parse_qsl(request.body, keep_blank_values=True):
                assert key not in params
                params[key] = value
        vectors.append(
            {
                "name": f"sdk_pipeline_{name}",
                "method": request.method,
                "params": [[k, v] for k, v in params.items()],
                "access_key_secret": STS_SECRET if name.startswith("sts_") else AK_SECRET,
                "expected_signature": request.query["Signature"],
            }
        )
    return vectors


def build_acs3_vectors() -> list:
    vectors = []
    for vector in _hand_made_acs3():
        vector = json.loads(json.dumps(vector))  # pairs as lists, as the file holds them
        vector["expected_authorization"] = sdk_acs3_authorization(vector)
        vectors.append(vector)
    for vector in _pipeline_acs3():
        # What the pipeline sent is also what the bare signing function gives for it.
        assert sdk_acs3_authorization(vector) == vector["expected_authorization"], vector["name"]
        vectors.append(vector)
    return vectors


def build_rpc_vectors() -> list:
    vectors = []
    for vector in _hand_made_rpc():
        vector = json.loads(json.dumps(vector))
        vector["expected_signature"] = sdk_rpc_signature(vector)
        vectors.append(vector)
    for vector in _pipeline_rpc():
        assert sdk_rpc_signature(vector) == vector["expected_signature"], vector["name"]
        vectors.append(vector)
    return vectors


def render(vectors: list) -> str:
    """JSON with one vector field a line and one name/value pair a line, for readable diffs."""

    def field(value):
        if isinstance(value, list):
            if not value:
                return "[]"
            pairs = ",\n".join("      " + json.dumps(pair, ensure_ascii=False) for pair in value)
            return "[\n" + pairs + "\n    ]"
        return json.dumps(value, ensure_ascii=False)

    items = []
    for vector in vectors:
        fields = ",\n".join(f"    {json.dumps(key)}: {field(value)}" for key, value in vector.items())
        items.append("  {\n" + fields + "\n  }")
    text = "[\n" + ",\n".join(items) + "\n]\n"
    assert json.loads(text) == vectors
    return text

"""STS AssumeRoleWithOIDC against the simulator, two ways: the official credentials library
(`alibabacloud_credentials`, type `oidc_role_arn`, the provider the SDKs use for RRSA on ACK)
and a plain unsigned form POST as REFERENCE.md describes it."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from alibabacloud_credentials import models as credential_models
from alibabacloud_credentials.client import Client as CredentialClient

ROLE_ARN = "acs:ram::1234567890123456:role/macsec-operator"
OIDC_PROVIDER_ARN = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c0ffee"
# Shaped like a projected service account token; the simulator does not check its content.
OIDC_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bWFjc2VjOm9wZXJhdG9yIn0.c2lnbmF0dXJl"


def official_oidc_credentials(sim, tmp_path) -> CredentialClient:
    """The official credential client for RRSA, with its STS endpoint set to the simulator.

    The library sends https unless the endpoint names its scheme, so the endpoint is given
    as `http://HOST:PORT`."""
    token_file = tmp_path / "oidc-token"
    token_file.write_text(OIDC_TOKEN, encoding="utf-8")
    return CredentialClient(
        credential_models.Config(
            type="oidc_role_arn",
            role_arn=ROLE_ARN,
            oidc_provider_arn=OIDC_PROVIDER_ARN,
            oidc_token_file_path=str(token_file),
            role_session_name="conformance-test",
            sts_endpoint=sim.url,
            timeout=15000,
            connect_timeout=15000,
        )
    )


def form_post(sim, **overrides) -> tuple[int, dict]:
    """AssumeRoleWithOIDC as an unsigned form POST; returns (HTTP status, JSON body)."""
    params = {
        "Action": "AssumeRoleWithOIDC",
        "Version": "2015-04-01",
        "Format": "JSON",
        "RoleArn": ROLE_ARN,
        "OIDCProviderArn": OIDC_PROVIDER_ARN,
        "OIDCToken": OIDC_TOKEN,
        "RoleSessionName": "conformance-test",
        "DurationSeconds": "3600",
    }
    params.update(overrides)
    data = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None}).encode("ascii")
    request = urllib.request.Request(sim.url + "/", data=data, method="POST")
    request.add_header("content-type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode("utf-8"))

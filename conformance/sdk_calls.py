"""Calls made through the official SDK's generic `call_api`, shared by the vector builder
and the simulator tests."""

from __future__ import annotations

from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from darabonba.runtime import RuntimeOptions


def associate_in_form_body(client: OpenApiClient, *, protocol, region, circuit, suite, ckn, cak):
    """AssociateMacSecKey with its parameters in a form body (the CAK stays out of the URL).
    Returns the call, not yet made, so a caller can capture the request it sends."""
    params = open_api_models.Params(
        action="AssociateMacSecKey",
        version="2016-04-28",
        protocol=protocol,
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    body = {"RegionId": region, "PhysicalConnectionId": circuit, "CipherSuite": suite, "Ckn": ckn, "Cak": cak}
    request = open_api_models.OpenApiRequest(body=body)
    return lambda: client.call_api(params, request, RuntimeOptions())

"""boto3 through settle-proxy --mitm as its HTTPS proxy: the real endpoint, unchanged.

Usage: python boto3_mitm.py HELD_PROXY TOKEN CA_BUNDLE THROTTLING_PROXY. Both proxies intercept
HTTPS with the local CA in CA_BUNDLE; the held one keeps writes invisible until released, the
throttling one has a single token. The SDK's endpoint is never changed: only HTTPS_PROXY and
AWS_CA_BUNDLE are set, as a user would.
"""
import os
import sys
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import SSLError

from settle_boto3 import code, release

held, token, ca_bundle, throttling = sys.argv[1:5]
for var in ("AWS_ENDPOINT_URL", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "https_proxy"):
    os.environ.pop(var, None)
os.environ["AWS_CA_BUNDLE"] = ca_bundle
creds = dict(region_name="us-east-1", aws_access_key_id="AKIDMITM", aws_secret_access_key="mitm-secret")


def ssm(proxy, **config):
    os.environ["HTTPS_PROXY"] = proxy
    client = boto3.client("ssm", config=Config(**config), **creds)
    assert client.meta.endpoint_url == "https://ssm.us-east-1.amazonaws.com", client.meta.endpoint_url
    return client


name = f"/settle/mitm-{uuid.uuid4().hex[:10]}"
client = ssm(held, retries={"total_max_attempts": 1})
client.put_parameter(Name=name, Value="v1", Type="String")
assert code(lambda: client.get_parameter(Name=name)) == "ParameterNotFound", "the create must lag"
assert release(held, token, f"resource=ssm-parameter:{name}") == 1
assert client.get_parameter(Name=name)["Parameter"]["Value"] == "v1", "visible once released"

# The standard retry mode classifies the proxy's answer as throttling: 1 token, 3 attempts.
client = ssm(throttling, retries={"mode": "standard", "total_max_attempts": 3})
client.describe_parameters()
assert code(lambda: client.get_parameter(Name=name)) == "ThrottlingException"

# Without the proxy's CA, TLS to the "real" endpoint fails: the proxy did intercept.
os.environ.pop("AWS_CA_BUNDLE")
client = ssm(held, retries={"total_max_attempts": 1})
try:
    client.get_parameter(Name=name)
    raise AssertionError("a client that does not trust the local CA must fail")
except SSLError:
    pass
print("ok")

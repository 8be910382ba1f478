"""boto3 against settle-proxy: the same pitfalls, from another SDK.

Usage: python boto3_lag.py ENDPOINT LAG_SECONDS. Exits non-zero when a pitfall is not reproduced.
"""
import sys
import time
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, lag = sys.argv[1], float(sys.argv[2])
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDBOTO3",
          aws_secret_access_key="boto3-secret", config=Config(retries={"max_attempts": 1}))
ssm = boto3.client("ssm", **kw)
sm = boto3.client("secretsmanager", **kw)
s3 = boto3.client("s3", **kw)
tagging = boto3.client("resourcegroupstaggingapi", **kw)
suffix = uuid.uuid4().hex[:10]


def code(fn):
    try:
        fn()
        return None
    except ClientError as e:
        return e.response["Error"]["Code"]


def until(fn):
    start = time.monotonic()
    while not fn():
        if time.monotonic() - start > 10:
            sys.exit("never became visible")
        time.sleep(0.01)
    return time.monotonic() - start


name = f"/settle/boto3-{suffix}"
ssm.put_parameter(Name=name, Value="v1", Type="String")
t0 = time.monotonic()
assert code(lambda: ssm.get_parameter(Name=name)) == "ParameterNotFound", "SSM create must lag"
until(lambda: code(lambda: ssm.get_parameter(Name=name)) is None)
observed = time.monotonic() - t0
assert lag - 0.3 <= observed <= lag + 0.6, f"visible after {observed}"
print(f"boto3: SSM put visible after {observed:.3f}s (lag {lag}s)")

# The tagging API view lags behind a tag change.
ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=[{"Key": "settle", "Value": suffix}])
view = lambda: tagging.get_resources(TagFilters=[{"Key": "settle", "Values": [suffix]}])["ResourceTagMappingList"]
assert view() == [], "the tagging view must lag"
until(lambda: len(view()) == 1)

secret = f"settle-boto3-{suffix}"
sm.create_secret(Name=secret, SecretString="x")
until(lambda: code(lambda: sm.get_secret_value(SecretId=secret)) is None)
sm.delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)
assert code(lambda: sm.create_secret(Name=secret, SecretString="y")) == "InvalidRequestException"

bucket = f"settle-boto3-{suffix}"
s3.create_bucket(Bucket=bucket)
assert code(lambda: s3.head_bucket(Bucket=bucket)) == "404", "S3 new bucket must 404"
until(lambda: code(lambda: s3.head_bucket(Bucket=bucket)) is None)
print("boto3: all pitfalls reproduced")

"""boto3 against settle-proxy: the same pitfalls, from another SDK.

Usage: python boto3_lag.py ENDPOINT TOKEN, against a proxy started with `--lag hold`: every write stays
invisible until this script releases it through the control endpoint, so nothing here depends on
timing. Exits non-zero when a pitfall is not reproduced.
"""
import sys
import uuid

import boto3
from botocore.config import Config

from settle_boto3 import code, release as release_on

endpoint, token = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="AKIDBOTO3",
          aws_secret_access_key="boto3-secret", config=Config(retries={"max_attempts": 1}))
ssm = boto3.client("ssm", **kw)
sm = boto3.client("secretsmanager", **kw)
s3 = boto3.client("s3", **kw)
tagging = boto3.client("resourcegroupstaggingapi", **kw)
suffix = uuid.uuid4().hex[:10]
release = lambda query="": release_on(endpoint, token, query)


name = f"/settle/boto3-{suffix}"
ssm.put_parameter(Name=name, Value="v1", Type="String")
assert code(lambda: ssm.get_parameter(Name=name)) == "ParameterNotFound", "SSM create must lag"
assert release(f"resource=ssm-parameter:{name}") == 1
assert code(lambda: ssm.get_parameter(Name=name)) is None, "visible once released"

# The tagging API view lags behind a tag change.
ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=[{"Key": "settle", "Value": suffix}])
view = lambda: tagging.get_resources(TagFilters=[{"Key": "settle", "Values": [suffix]}])["ResourceTagMappingList"]
assert view() == [], "the tagging view must lag"
assert release("operation=AddTagsToResource") == 1
assert len(view()) == 1

secret = f"settle-boto3-{suffix}"
sm.create_secret(Name=secret, SecretString="x")
assert code(lambda: sm.get_secret_value(SecretId=secret)) == "ResourceNotFoundException"
release()
assert code(lambda: sm.get_secret_value(SecretId=secret)) is None
sm.delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)
assert code(lambda: sm.create_secret(Name=secret, SecretString="y")) == "InvalidRequestException"
release()
assert code(lambda: sm.create_secret(Name=secret, SecretString="y")) is None, "the name is free once released"

bucket = f"settle-boto3-{suffix}"
s3.create_bucket(Bucket=bucket)
assert code(lambda: s3.head_bucket(Bucket=bucket)) == "404", "S3 new bucket must 404"
release()
assert code(lambda: s3.head_bucket(Bucket=bucket)) is None
print("boto3: all pitfalls reproduced")

"""boto3 against settle-proxy: Lambda function states, the update conflict, and the propagation
errors of Lambda and EC2 (EC2's own error shape), parsed by botocore as the Rust SDK parses them.

Usage: python boto3_lambda.py HELD_ENDPOINT TOKEN. The proxy runs with `--lag hold`: writes stay
invisible until this script releases them, so nothing depends on timing.
"""
import io
import sys
import uuid
import zipfile

import boto3
from botocore.config import Config

from settle_boto3 import code, release as release_on

endpoint, token = sys.argv[1], sys.argv[2]
kw = dict(region_name="us-east-1", aws_access_key_id="AKIDBOTO3", aws_secret_access_key="boto3-secret")
client = lambda service: boto3.client(
    service, endpoint_url=endpoint, config=Config(retries={"mode": "standard", "total_max_attempts": 1}), **kw)
iam, lam, ec2 = client("iam"), client("lambda"), client("ec2")
suffix = uuid.uuid4().hex[:10]
release = lambda query="": release_on(endpoint, token, query)
archive = io.BytesIO()
zipfile.ZipFile(archive, "w").close()
trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'

# Propagation: Lambda cannot assume the role while CreateRole is held.
role = f"settle-boto3-role-{suffix}"
arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
function = f"settle-boto3-fn-{suffix}"
create = lambda: lam.create_function(FunctionName=function, Runtime="python3.12", Handler="index.handler",
                                     Role=arn, Code={"ZipFile": archive.getvalue()})
try:
    create()
    raise AssertionError("CreateFunction went through while the role was held")
except lam.exceptions.InvalidParameterValueException as e:
    assert e.response["Error"]["Message"] == "The role defined for the function cannot be assumed by Lambda.", e.response
assert release(f"resource=iam-role:{role}") == 1

# States: Pending until released, then an update InProgress, and a second update conflicts.
assert create()["State"] == "Pending"
assert lam.get_function(FunctionName=function)["Configuration"]["State"] == "Pending"
release()
assert lam.get_function_configuration(FunctionName=function)["State"] == "Active"
assert lam.update_function_configuration(FunctionName=function, Description="v2")["LastUpdateStatus"] == "InProgress"
conflict = code(lambda: lam.update_function_code(FunctionName=function, ZipFile=archive.getvalue()),
                lam.exceptions.ResourceConflictException)
assert conflict == "ResourceConflictException", conflict
release()
assert lam.get_function_configuration(FunctionName=function)["LastUpdateStatus"] == "Successful"

# EC2: a held instance profile is an invalid one, in EC2's <Response><Errors> shape.
profile = f"settle-boto3-profile-{suffix}"
iam.create_instance_profile(InstanceProfileName=profile)
try:
    ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, IamInstanceProfile={"Name": profile})
    raise AssertionError("RunInstances went through while the profile was held")
except ec2.exceptions.ClientError as e:
    error = e.response["Error"]
    assert error["Code"] == "InvalidParameterValue", e.response
    assert error["Message"].endswith("Invalid IAM Instance Profile name"), e.response
release()
print("boto3 saw the Lambda states and the propagation errors")

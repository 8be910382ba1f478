"""boto3 against settle-proxy: each propagation rule not in boto3_lambda.py (Lambda's
UpdateFunctionConfiguration, EC2's instance profile by ARN, KMS CreateKey/PutKeyPolicy, SNS and SQS
policies, STS AssumeRole), parsed by botocore as the Rust SDK parses them: the same code, message
and HTTP status.

Usage: python boto3_propagation.py HELD_ENDPOINT TOKEN. The proxy runs with `--lag hold`: a new role
propagates until this script releases it, so nothing depends on timing.
"""
import io
import json
import sys
import uuid
import zipfile

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from settle_boto3 import release as release_on

endpoint, token = sys.argv[1], sys.argv[2]
kw = dict(region_name="us-east-1", aws_access_key_id="AKIDBOTO3", aws_secret_access_key="boto3-secret")
client = lambda service: boto3.client(
    service, endpoint_url=endpoint, config=Config(retries={"mode": "standard", "total_max_attempts": 1}), **kw)
iam, lam, ec2, kms, sns, sqs, sts = (client(s) for s in ("iam", "lambda", "ec2", "kms", "sns", "sqs", "sts"))
release = lambda query="": release_on(endpoint, token, query)
suffix = lambda: uuid.uuid4().hex[:10]
lambda_trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
caller_trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}'


def new_role(trust=lambda_trust):
    """A role the proxy holds (propagating): its name and ARN."""
    name = f"settle-boto3-prop-{suffix()}"
    return name, iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]


def naming(arn):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "*", "Resource": "*"}]})


def refused(call, code, message=None, status=400):
    """`call()` fails with `code` (and `message`, and HTTP `status`), then goes through once released."""
    try:
        call()
        raise AssertionError(f"went through while the principal was propagating (expected {code})")
    except ClientError as e:
        error, meta = e.response["Error"], e.response["ResponseMetadata"]
        assert error["Code"] == code, e.response
        assert message is None or error["Message"] == message, e.response
        assert meta["HTTPStatusCode"] == status, e.response
    assert release() >= 1
    call()


# Lambda UpdateFunctionConfiguration naming a role whose new policy propagates.
role, arn = new_role()
release()
archive = io.BytesIO()
zipfile.ZipFile(archive, "w").close()
function = f"settle-boto3-fn-{suffix()}"
lam.create_function(FunctionName=function, Runtime="python3.12", Handler="index.handler", Role=arn,
                    Code={"ZipFile": archive.getvalue()})
release()
iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
refused(lambda: lam.update_function_configuration(FunctionName=function, Role=arn),
        "InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")

# EC2 RunInstances naming a new instance profile by ARN: EC2 names the `.arn` field.
profile = iam.create_instance_profile(InstanceProfileName=f"settle-boto3-profile-{suffix()}")["InstanceProfile"]["Arn"]
refused(lambda: ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, IamInstanceProfile={"Arn": profile}),
        "InvalidParameterValue",
        f"Value ({profile}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN")

# KMS: a key policy naming a new role, on CreateKey and on PutKeyPolicy.
key = kms.create_key()["KeyMetadata"]["KeyId"]
release()
principals = "Policy contains a statement with one or more invalid principals."
policy = naming(new_role()[1])
refused(lambda: kms.create_key(Policy=policy), "MalformedPolicyDocumentException", principals)
policy = naming(new_role()[1])
refused(lambda: kms.put_key_policy(KeyId=key, PolicyName="default", Policy=policy),
        "MalformedPolicyDocumentException", principals)

# SNS and SQS: a Policy attribute naming a new role, on create and on set.
topic = sns.create_topic(Name=f"settle-boto3-t-{suffix()}")["TopicArn"]
queue = sqs.create_queue(QueueName=f"settle-boto3-q-{suffix()}")["QueueUrl"]
release()
sns_principal = "Invalid parameter: Policy Error: PrincipalNotFound"
policy = naming(new_role()[1])
refused(lambda: sns.create_topic(Name=f"settle-boto3-t-{suffix()}", Attributes={"Policy": policy}),
        "InvalidParameter", sns_principal)
policy = naming(new_role()[1])
refused(lambda: sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy),
        "InvalidParameter", sns_principal)
sqs_policy = "Invalid value for the parameter Policy."
policy = naming(new_role()[1])
refused(lambda: sqs.create_queue(QueueName=f"settle-boto3-q-{suffix()}", Attributes={"Policy": policy}),
        "InvalidAttributeValue", sqs_policy)
policy = naming(new_role()[1])
refused(lambda: sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": policy}),
        "InvalidAttributeValue", sqs_policy)

# STS AssumeRole of a new role that trusts the caller: 403 AccessDenied.
_, arn = new_role(caller_trust)
refused(lambda: sts.assume_role(RoleArn=arn, RoleSessionName="boto3"), "AccessDenied",
        f"User: arn:aws:iam::123456789012:user/settle is not authorized to perform: sts:AssumeRole on resource: {arn}",
        status=403)
print("boto3 parsed each propagation refusal as the Rust SDK does")

"""boto3 against settle-proxy: the SQS, KMS, CloudWatch Logs, SNS, EC2 and Route 53 pitfalls, and their throttling codes.

Usage: python boto3_services.py HELD_ENDPOINT TOKEN THROTTLED_ENDPOINT. The first proxy runs with
`--lag hold` (writes invisible until this script releases them, so nothing depends on timing); the second
throttles every call after the first. Exits non-zero when botocore does not see what the SDKs see.
"""
import sys
import uuid

import boto3
from botocore.config import Config

from settle_boto3 import code, release as release_on

endpoint, token, throttled_endpoint = sys.argv[1], sys.argv[2], sys.argv[3]
kw = dict(region_name="us-east-1", aws_access_key_id="AKIDBOTO3", aws_secret_access_key="boto3-secret")
client = lambda service, url=endpoint, attempts=1: boto3.client(
    service, endpoint_url=url, config=Config(retries={"mode": "standard", "total_max_attempts": attempts}), **kw)
sqs, kms, logs, sns, ec2 = client("sqs"), client("kms"), client("logs"), client("sns"), client("ec2")
suffix = uuid.uuid4().hex[:10]
release = lambda query="": release_on(endpoint, token, query)


# SQS: botocore reads x-amzn-query-error, as the Rust SDK does.
queue = f"settle-boto3-{suffix}"
url = sqs.create_queue(QueueName=queue)["QueueUrl"]
missing = code(lambda: sqs.get_queue_url(QueueName=queue), sqs.exceptions.QueueDoesNotExist)
assert missing == "AWS.SimpleQueueService.NonExistentQueue", missing
assert release(f"resource=sqs-queue:{queue}") == 1
assert sqs.get_queue_url(QueueName=queue)["QueueUrl"] == url
sqs.delete_queue(QueueUrl=url)
refused = code(lambda: sqs.create_queue(QueueName=queue), sqs.exceptions.QueueDeletedRecently)
assert refused == "AWS.SimpleQueueService.QueueDeletedRecently", refused
release()
url = sqs.create_queue(QueueName=queue)["QueueUrl"]  # the name is free once released

# KMS: a new key is NotFound, then the old key state while a DisableKey is held.
key = kms.create_key()["KeyMetadata"]["KeyId"]
assert code(lambda: kms.describe_key(KeyId=key), kms.exceptions.NotFoundException) == "NotFoundException"
assert release("operation=CreateKey") == 1
kms.disable_key(KeyId=key)
assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
assert release("operation=DisableKey") == 1
assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"

# CloudWatch Logs: a new group is not listed yet.
group = f"/settle/boto3-{suffix}"
logs.create_log_group(logGroupName=group)
assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
release()
assert [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]] == [group]

# SNS: a new topic is NotFound.
topic = sns.create_topic(Name=f"settle-boto3-{suffix}")["TopicArn"]
assert code(lambda: sns.get_topic_attributes(TopicArn=topic), sns.exceptions.NotFoundException) == "NotFound"
release()
assert code(lambda: sns.get_topic_attributes(TopicArn=topic)) is None

# EC2: a new instance is InvalidInstanceID.NotFound (to CreateTags too), then pending, then running;
# botocore parses EC2's own <Response><Errors> shape.
instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
state = lambda: ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"]["Name"]
assert code(state) == "InvalidInstanceID.NotFound"
tag = lambda: ec2.create_tags(Resources=[instance], Tags=[{"Key": "team", "Value": "blue"}])
assert code(tag) == "InvalidInstanceID.NotFound"
assert release("operation=RunInstances") == 1
assert state() == "pending", state()
release()
assert state() == "running", state()

# Route 53: a change is PENDING in GetChange until released, then INSYNC (the proxy names each change).
route53 = client("route53")
zone = route53.create_hosted_zone(Name=f"settle-{suffix}.example.com", CallerReference=suffix)
change = lambda info: route53.get_change(Id=info["Id"])["ChangeInfo"]["Status"]
assert change(zone["ChangeInfo"]) == "PENDING", change(zone["ChangeInfo"])
batch = {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
    "Name": f"www.settle-{suffix}.example.com", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.1"}]}}]}
records = route53.change_resource_record_sets(HostedZoneId=zone["HostedZone"]["Id"], ChangeBatch=batch)
assert records["ChangeInfo"]["Id"] != zone["ChangeInfo"]["Id"], "each change has its own id"
assert change(records["ChangeInfo"]) == "PENDING"
assert release("operation=CreateHostedZone") == 1
assert change(zone["ChangeInfo"]) == "INSYNC"
assert change(records["ChangeInfo"]) == "PENDING"
assert release("operation=ChangeResourceRecordSets") == 1
assert change(records["ChangeInfo"]) == "INSYNC"

# The Resource Groups Tagging API view lags behind each service's tag writes. The queue and the topic
# share a name on purpose: a lagging queue must not hide the topic.
tagging = client("resourcegroupstaggingapi")
view = lambda: tagging.get_resources(TagFilters=[{"Key": "settle-view", "Values": [suffix]}])["ResourceTagMappingList"]
group_arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]
sqs.tag_queue(QueueUrl=url, Tags={"settle-view": suffix})
kms.tag_resource(KeyId=key, Tags=[{"TagKey": "settle-view", "TagValue": suffix}])
logs.tag_resource(resourceArn=group_arn, tags={"settle-view": suffix})
sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "settle-view", "Value": suffix}])
assert view() == [], "the tagging view must lag"
assert release("operation=TagResource") == 3, "KMS, Logs and SNS"
assert len(view()) == 3, view()
release()
assert len(view()) == 4, view()

# Throttling: botocore's standard retry classifies each code as throttling and retries it
# (3 attempts; the proxy's counters, checked by the Rust test, show it).
calls = {"sqs": ("list_queues", "RequestThrottled"), "kms": ("list_keys", "ThrottlingException"),
         "logs": ("describe_log_groups", "ThrottlingException"), "sns": ("list_topics", "Throttling"),
         "ec2": ("describe_vpcs", "RequestLimitExceeded"), "route53": ("list_hosted_zones", "Throttling")}
for service, (operation, expected) in calls.items():
    throttled = client(service, throttled_endpoint, attempts=3)
    call = getattr(throttled, operation)
    code(call)  # the service's one token
    got = code(call)
    assert got == expected, f"{service}: {got}"
print("boto3: SQS, KMS, Logs, SNS, EC2 and Route 53 pitfalls reproduced")

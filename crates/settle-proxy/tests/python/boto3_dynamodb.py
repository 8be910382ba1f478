"""boto3 against settle-proxy: DynamoDB item reads lag behind item writes, as the SDKs see it.

Usage: python boto3_dynamodb.py HELD_ENDPOINT TOKEN. The proxy runs with `--lag hold` (writes invisible
until this script releases them, so nothing depends on timing). Exits non-zero when botocore does not see
what the Rust SDK sees: the old item for reads without ConsistentRead, the new one with it, and a global
secondary index that lags whatever the read asks.
"""
import sys
import uuid

import boto3

from settle_boto3 import code, release as release_on

endpoint, token = sys.argv[1], sys.argv[2]
kw = dict(region_name="us-east-1", aws_access_key_id="AKIDBOTO3", aws_secret_access_key="boto3-secret")
ddb = boto3.client("dynamodb", endpoint_url=endpoint, **kw)
release = lambda query="": release_on(endpoint, token, query)
table = f"settle-boto3-items-{uuid.uuid4().hex[:10]}"

ddb.create_table(
    TableName=table,
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    GlobalSecondaryIndexes=[{
        "IndexName": "by-g",
        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    }],
    BillingMode="PAY_PER_REQUEST",
)
assert release("operation=CreateTable") == 1

item = lambda v: {"pk": {"S": "a"}, "g": {"S": "group"}, "v": {"S": v}}
get = lambda consistent: ddb.get_item(TableName=table, Key={"pk": {"S": "a"}}, ConsistentRead=consistent).get("Item")
values = lambda items: [i["v"]["S"] for i in items]
query = lambda **extra: values(ddb.query(
    TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}}, **extra)["Items"])
on_index = lambda: values(ddb.query(
    TableName=table, IndexName="by-g", KeyConditionExpression="g = :g",
    ExpressionAttributeValues={":g": {"S": "group"}})["Items"])

# A put: absent for eventually consistent reads, present for consistent ones.
ddb.put_item(TableName=table, Item=item("v1"))
assert get(False) is None, get(False)
assert get(True) == item("v1")
assert query() == [] and query(ConsistentRead=True) == ["v1"]
assert release("operation=PutItem") == 1
assert get(False) == item("v1")

# An update: the old item in GetItem, Query, Scan and on the index; a consistent read sees the new one.
ddb.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v",
                ExpressionAttributeValues={":v": {"S": "v2"}})
assert get(False) == item("v1") and get(True) == item("v2")
assert query() == ["v1"] and query(ConsistentRead=True) == ["v2"]
assert values(ddb.scan(TableName=table)["Items"]) == ["v1"]
assert on_index() == ["v1"]
strong = code(lambda: ddb.query(TableName=table, IndexName="by-g", KeyConditionExpression="g = :g",
                                ExpressionAttributeValues={":g": {"S": "group"}}, ConsistentRead=True))
assert strong == "ValidationException", strong
release()
assert get(False) == item("v2") and on_index() == ["v2"]
print("boto3 dynamodb items: ok")

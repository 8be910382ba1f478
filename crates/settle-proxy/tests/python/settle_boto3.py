"""What the boto3 scenarios share: the error code of a call, and releasing held writes."""
import json
import urllib.request

from botocore.exceptions import ClientError


def code(fn, modeled=None):
    """The error code `fn()` fails with (None if it succeeds); with `modeled`, the error must be
    parsed as that modeled exception class."""
    try:
        fn()
        return None
    except ClientError as e:
        assert modeled is None or isinstance(e, modeled), f"{type(e).__name__} is not {modeled.__name__}"
        return e.response["Error"]["Code"]


def release(endpoint, token, query=""):
    """Makes held writes visible: all, `resource=KEY` or `operation=WRITE`."""
    url = f"{endpoint}/__settle/release{'?' + query if query else ''}"
    request = urllib.request.Request(url, method="POST", headers={"x-settle-token": token})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)["released"]

#!/usr/bin/python3
"""Prints the SigV4 vectors that tests/cloud/aws/sigv4_test.cc checks, as botocore computes them.

Run with the Debian python3-botocore (/usr/bin/python3 tests/cloud/aws/sigv4_botocore_vectors.py).
botocore is the signer behind the aws CLI and boto3, so these pin gpufleet's signer (and its
verifier, which must accept what the aws CLI sends) to the behaviour of the real client. The
published AWS test-suite vectors are recomputed too, as a check that this harness drives botocore
the way the suite expects.
"""
import datetime
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SUITE_KEY = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


def at(*args):
    class Fixed(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return cls(*args)

    return mock.patch.object(botocore.auth.datetime, "datetime", Fixed)


def sign(method, url, headers=(), body=b"", region="us-east-1", service="service",
         key=SUITE_KEY, token=None, when=(2015, 8, 30, 12, 36, 0)):
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        request.headers[name] = value
    with at(*when):
        botocore.auth.SigV4Auth(Credentials(key[0], key[1], token), service, region).add_auth(request)
    return request.headers["Authorization"]


def presign(method, url, expires, region, service, key=SUITE_KEY, token=None,
            when=(2015, 8, 30, 12, 36, 0)):
    request = AWSRequest(method=method, url=url)
    with at(*when):
        botocore.auth.SigV4QueryAuth(Credentials(key[0], key[1], token), service, region,
                                     expires=expires).add_auth(request)
    return request.url


# (name, method, url, headers, body); the URLs hold the suite's paths and queries, encoded.
SUITE = [
    ("get-vanilla", "GET", "https://example.amazonaws.com/", [], b""),
    ("get-vanilla-empty-query-key", "GET", "https://example.amazonaws.com/?Param1=value1", [], b""),
    ("get-vanilla-query-order-key-case", "GET",
     "https://example.amazonaws.com/?Param2=value2&Param1=value1", [], b""),
    ("get-vanilla-query-order-key", "GET",
     "https://example.amazonaws.com/?Param1=value2&Param1=Value1", [], b""),
    ("get-vanilla-query-order-value", "GET",
     "https://example.amazonaws.com/?Param1=value2&Param1=value1", [], b""),
    ("get-vanilla-utf8-query", "GET", "https://example.amazonaws.com/?%E1%88%B4=bar", [], b""),
    ("get-unreserved", "GET",
     "https://example.amazonaws.com/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
     [], b""),
    ("get-utf8", "GET", "https://example.amazonaws.com/\u1234", [], b""),
    ("get-space", "GET", "https://example.amazonaws.com/example space/", [], b""),
    ("get-header-key-duplicate", "GET", "https://example.amazonaws.com/",
     [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")], b""),
    ("get-header-value-order", "GET", "https://example.amazonaws.com/",
     [("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"),
      ("My-Header1", "value2")], b""),
    ("get-vanilla-query-unreserved", "GET",
     "https://example.amazonaws.com/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", [], b""),
    ("get-relative", "GET", "https://example.amazonaws.com/example/..", [], b""),
    ("get-slash", "GET", "https://example.amazonaws.com//", [], b""),
    ("get-slash-dot-slash", "GET", "https://example.amazonaws.com/./", [], b""),
    ("post-header-key-sort", "POST", "https://example.amazonaws.com/", [("My-Header1", "value1")], b""),
    ("get-header-value-trim", "GET", "https://example.amazonaws.com/",
     [("My-Header1", " value1"), ("My-Header2", ' "a   b   c"')], b""),
    ("get-relative-relative", "GET", "https://example.amazonaws.com/example1/example2/../..", [], b""),
    ("get-slash-pointless-dot", "GET", "https://example.amazonaws.com/./example", [], b""),
    ("get-slashes", "GET", "https://example.amazonaws.com//example//", [], b""),
    ("post-vanilla", "POST", "https://example.amazonaws.com/", [], b""),
    ("post-vanilla-query", "POST", "https://example.amazonaws.com/?Param1=value1", [], b""),
    ("post-header-value-case", "POST", "https://example.amazonaws.com/", [("My-Header1", "VALUE1")], b""),
    ("post-x-www-form-urlencoded", "POST", "https://example.amazonaws.com/",
     [("Content-Type", "application/x-www-form-urlencoded")], b"Param1=value1"),
    ("post-x-www-form-urlencoded-parameters", "POST", "https://example.amazonaws.com/",
     [("Content-Type", "application/x-www-form-urlencoded; charset=utf8")], b"Param1=value1"),
]

if __name__ == "__main__":
    for name, method, url, headers, body in SUITE:
        print(f"{name}: {sign(method, url, headers, body)}")
    print("post-sts-header-before:", sign(
        "POST", "https://example.amazonaws.com/",
        token="AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMic"
              "RXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampK"
              "sburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0"
              "u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="))
    print("iam-list-users:", sign(
        "GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
        [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], service="iam"))
    # What `aws ec2 describe-instances` sends (botocore's ec2 client, query protocol): a form
    # body, Content-Type with charset, a session token; User-Agent is never signed.
    ec2_body = (b"Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0abc&"
                b"Filter.1.Name=tag%3Akarpenter.sh%2Fnodepool&Filter.1.Value.1=gpu+a%2Fb%2A")
    print("ec2-describe-instances:", sign(
        "POST", "https://ec2.us-west-2.amazonaws.com/",
        [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
         ("User-Agent", "aws-cli/2.9.19 Python/3.11.2")],
        ec2_body, region="us-west-2", service="ec2",
        key=("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        token="FwoGZXIvYXdzEXAMPLETOKEN", when=(2026, 12, 6, 20, 30, 38)))
    print("ec2-describe-instances-emulator:", sign(
        "POST", "http://127.0.0.1:8787/",
        [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
        ec2_body, region="us-east-1", service="ec2",
        key=("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        when=(2026, 12, 6, 20, 30, 38)))
    # A presigned STS GetCallerIdentity, the shape of an EKS token (aws eks get-token).
    print("presigned-sts:", presign(
        "GET", "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
        60, "us-west-2", "sts", key=("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        token="FwoGZXIvYXdzEXAMPLETOKEN", when=(2026, 12, 6, 20, 30, 38)))

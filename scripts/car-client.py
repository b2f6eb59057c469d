#!/usr/bin/env python3
"""Calls Tether's CAR-compatible endpoint (`POST /`) the way a CAR backend does, for CARTests.

Usage:
  car-client.py sdk ENDPOINT SECRET_ID SECRET_KEY ACTION JSON
      Tencent Cloud's own SDK (tencentcloud-sdk-python-car's CarClient, endpoint overridden to ENDPOINT,
      host:port over http): the typed method for ApplyConcurrent, CreateSession, DescribeConcurrentCount and
      DestroySession, `call_json` for the project actions.
  car-client.py raw ENDPOINT SECRET_ID SECRET_KEY ACTION JSON [--omit HEADER] [--timestamp-offset SECONDS]
                [--version V] [--tamper-body] [--content-type T] [--authorization TEXT]
      A request signed by hand here (TC3-HMAC-SHA256 as Tencent documents it, with hashlib and hmac only), then
      changed as asked: a header left out, a timestamp moved, another version, the body changed after signing.

Prints one line of JSON: {"status": HTTP status, "contentType": ..., "response": the answer's "Response"} or,
for an SDK exception, {"sdkError": {"code", "message"}}.
"""

import hashlib
import hmac
import http.client
import json
import sys
import time


def sdk(endpoint, secret_id, secret_key, action, params):
    from tencentcloud.car.v20220110 import car_client, models
    from tencentcloud.common import credential
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    http_profile = HttpProfile()
    http_profile.endpoint = endpoint
    http_profile.scheme = "http"
    client = car_client.CarClient(credential.Credential(secret_id, secret_key), "ap-guangzhou",
                                  ClientProfile(httpProfile=http_profile))
    try:
        if action in ("ApplyConcurrent", "CreateSession", "DescribeConcurrentCount", "DestroySession"):
            request = getattr(models, action + "Request")()
            request.from_json_string(json.dumps(params))
            answer = json.loads(getattr(client, action)(request).to_json_string())
        else:
            answer = client.call_json(action, params)["Response"]
        print(json.dumps({"status": 200, "response": answer}))
    except TencentCloudSDKException as error:
        print(json.dumps({"sdkError": {"code": error.code, "message": error.message}}))


def sign(secret_key, timestamp, canonical_request):
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    scope = f"{date}/car/tc3_request"
    string_to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope,
                                hashlib.sha256(canonical_request.encode()).hexdigest()])

    def mac(key, text):
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    signing = mac(mac(mac(("TC3" + secret_key).encode(), date), "car"), "tc3_request")
    return date, hmac.new(signing, string_to_sign.encode(), hashlib.sha256).hexdigest()


def raw(endpoint, secret_id, secret_key, action, params, options):
    body = json.dumps(params).encode()
    timestamp = int(time.time()) + int(options.get("--timestamp-offset", "0"))
    content_type = options.get("--content-type", "application/json")
    canonical = "\n".join(["POST", "/", "", f"content-type:{content_type}\nhost:{endpoint}\n",
                           "content-type;host", hashlib.sha256(body).hexdigest()])
    date, signature = sign(secret_key, timestamp, canonical)
    headers = {
        "Authorization": options.get(
            "--authorization",
            f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/car/tc3_request, "
            f"SignedHeaders=content-type;host, Signature={signature}"),
        "Content-Type": content_type, "Host": endpoint, "X-TC-Action": action,
        "X-TC-Timestamp": str(timestamp), "X-TC-Version": options.get("--version", "2022-01-10"),
        "X-TC-Region": "ap-guangzhou",
    }
    if "--omit" in options:
        del headers[options["--omit"]]
    if "--tamper-body" in options:
        body = body.replace(b"}", b', "Extra": 1}') if params else b'{"Extra": 1}'
    host, port = endpoint.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/", skip_host=True, skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    answer = connection.getresponse()
    text = answer.read()
    print(json.dumps({"status": answer.status, "contentType": answer.getheader("Content-Type"),
                      "response": json.loads(text).get("Response") if text else None}))


def main():
    mode, endpoint, secret_id, secret_key, action, params = sys.argv[1:7]
    rest = sys.argv[7:]
    options = {}
    i = 0
    while i < len(rest):
        if rest[i] == "--tamper-body":
            options[rest[i]] = True
            i += 1
        else:
            options[rest[i]] = rest[i + 1]
            i += 2
    if mode == "sdk":
        sdk(endpoint, secret_id, secret_key, action, json.loads(params))
    else:
        raw(endpoint, secret_id, secret_key, action, json.loads(params), options)


if __name__ == "__main__":
    main()

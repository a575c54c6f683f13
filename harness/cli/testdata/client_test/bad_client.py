#!/usr/bin/env python3
"""A client program that breaks the protocol on purpose, for client_test_command_test:
bad_client.py MODE.

  no-ready   answers hello with a line that is not ready
  garbage    answers every request with a line that is not JSON
  wrong-id   answers every request under another id
  silent     never answers a request
  twice      answers every status request ok, twice
  lying      the Python example client for tidelog, but every register read gives 42
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../../../examples/clients/python"))
import tidelog_client as base  # noqa: E402

MODE = sys.argv[1]


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if MODE == "lying":
    real_perform = base.perform

    def perform(req):
        answer = real_perform(req)
        if req["f"] == "read" and req.get("key") is not None and answer["type"] == "ok":
            answer["value"] = 42
        return answer

    base.perform = perform
    base.main()
    sys.exit(0)

for line in sys.stdin:
    req = json.loads(line)
    if req["type"] == "hello":
        say("hello to you too" if MODE == "no-ready" else '{"type":"ready","protocol":1}')
    elif req["type"] == "shutdown":
        break
    elif MODE == "garbage":
        say("this is not json")
    elif MODE == "twice":
        for _ in range(2):
            say(json.dumps({"id": req["id"], "type": "ok", "value": {"role": "leader"}}))
    elif MODE == "wrong-id":
        say(json.dumps({"id": req["id"] + 1000, "type": "ok"}))

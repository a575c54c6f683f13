#!/usr/bin/env python3
"""The Python example client with a fault, for exec_e2e_test: fault_client.py MODE.

  late          answers every 5th op a second after its timeout
  silent        never answers every 5th op
  crash-once    exits (status 3) at op id 30, after a line on stderr; the restarted program
                gets higher ids and carries on
  crash-always  exits 20 ops into each start
  garbage       writes a line that is not JSON instead of its 20th answer
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../../../examples/clients/python"))
import tidelog_client as base  # noqa: E402

MODE = sys.argv[1]
SEEN = [0]
LOCK = threading.Lock()
real_serve = base.serve


def serve(req):
    if req["type"] != "op":
        return real_serve(req)
    with LOCK:
        SEEN[0] += 1
        seen = SEEN[0]
    if MODE == "late" and req["id"] % 5 == 0:
        time.sleep(req["timeout_ms"] / 1000.0 + 1.0)
    elif MODE == "silent" and req["id"] % 5 == 0:
        return
    elif (MODE == "crash-once" and req["id"] == 30) or (MODE == "crash-always" and seen == 20):
        sys.stderr.write("fault_client: crashing on purpose at op %d\n" % req["id"])
        sys.stderr.flush()
        os._exit(3)
    elif MODE == "garbage" and seen == 20:
        with base.OUT:
            sys.stdout.write("this is not json\n")
            sys.stdout.flush()
        return
    real_serve(req)


base.serve = serve
base.main()

#!/usr/bin/env python3
"""A tidemark exec client for tidelog's HTTP API (docs/protocol.md), standard library only.

tidemark writes one JSON request per line on stdin and reads one JSON answer per line from
stdout (docs/client-protocol.md). Ops run on a thread each, so every logical process can have
one in flight: a pool of threads, each with its own kept-alive connections, serves them, and
answers are written whole, one line at a time, under a lock.
"""
import http.client
import itertools
import json
import os
import queue
import sys
import threading

CLIENT_ID = "py-%d" % os.getpid()  # with seq, lets tidelog recognise a re-sent op
SEQ = itertools.count(1)
OUT = threading.Lock()
LOCAL = threading.local()  # per thread: kept-alive connections by (host, port)


def send(msg):
    line = json.dumps(msg, separators=(",", ":")) + "\n"
    with OUT:
        sys.stdout.write(line)
        sys.stdout.flush()


def post(node, path, body, timeout_s):
    """(status, body) of one POST; raises OSError/HTTPException when the exchange fails."""
    conns = LOCAL.__dict__.setdefault("conns", {})
    key = (node["host"], node["port"])
    conn = conns.pop(key, None) or http.client.HTTPConnection(*key, timeout=timeout_s)
    conn.timeout = timeout_s
    if conn.sock is not None:
        conn.sock.settimeout(timeout_s)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = json.loads(resp.read() or b"{}")
    conns[key] = conn  # only a connection that completed an exchange is reused
    return resp.status, data


def request_for(req):
    """The tidelog call for an op: (path, body, mutating)."""
    f, v, key = req["f"], req.get("value"), req.get("key")
    if key is not None:  # the register workload
        if f == "read":
            return "/v1/kv/read", {"key": key}, False
        if f == "write":
            return "/v1/kv/write", {"key": key, "value": v}, True
        if f == "cas":
            return "/v1/kv/cas", {"key": key, "from": v[0], "to": v[1]}, True
    elif f == "append":
        return "/v1/log/append", {"value": v}, True
    elif f == "read":
        body = {"from": v["from"], "consistency": v.get("consistency", "linearizable")}
        if "to" in v:
            body["to"] = v["to"]
        return "/v1/log/read", body, False
    raise ValueError("unknown op %s" % f)


def ok_value(req, body, pages):
    f, v = req["f"], req.get("value")
    if req.get("key") is not None:
        return body["value"] if f == "read" else v
    if f == "append":
        return {"value": body["value"], "offset": body["offset"], "hwm": body["hwm"]}
    entries = [e for page in pages for e in page["entries"]]
    first, last = pages[0], pages[-1]
    return {"from": first["from"], "to": max(last["to"], first["from"]), "hwm": last["hwm"],
            "consistency": last.get("consistency", v.get("consistency")), "entries": entries}


def perform(req):
    """The answer for one op, by the outcome rule: ok, fail (surely not applied) or info."""
    path, body, mutating = request_for(req)
    if mutating:
        body.update(client_id=CLIENT_ID, seq=next(SEQ))
    unsure = "info" if mutating else "fail"  # a read that went wrong changed nothing
    timeout_s = req["timeout_ms"] / 1000.0
    pages = []
    while True:
        try:
            status, data = post(req["node"], path, body, timeout_s)
        except ConnectionRefusedError:
            return {"type": "fail", "error": "connection refused"}
        except (OSError, http.client.HTTPException, ValueError) as e:
            return {"type": unsure, "error": type(e).__name__ + ": " + str(e)}
        if status != 200:
            err = data.get("error") or {}
            kind = "fail" if err.get("definite") else unsure
            return {"type": kind, "error": err.get("code", "http %d" % status)}
        if path != "/v1/log/read":
            return {"type": "ok", "value": ok_value(req, data, None)}
        pages.append(data)
        want = body.get("to")
        if data["to"] >= data["hwm"] or data["to"] <= body["from"] or (want and data["to"] >= want):
            return {"type": "ok", "value": ok_value(req, data, pages)}
        body = dict(body, **{"from": data["to"]})  # the next page


def status(req):
    try:
        code, data = post(req["node"], "/v1/status", {}, req["timeout_ms"] / 1000.0)
    except (OSError, http.client.HTTPException, ValueError) as e:
        return {"type": "fail", "error": type(e).__name__ + ": " + str(e)}
    if code != 200:
        return {"type": "fail", "error": "http %d" % code}
    return {"type": "ok", "value": data}  # role, leader, generation, hwm: as tidemark wants


def serve(req):
    try:
        answer = status(req) if req["type"] == "status" else perform(req)
    except Exception as e:  # a bug here must not look like a definite failure
        answer = {"type": "info", "error": "client error: %r" % e}
    answer["id"] = req["id"]
    send(answer)


def worker(jobs):
    while True:
        serve(jobs.get())
        jobs.task_done()


def main():
    jobs = queue.Queue()
    for _ in range(32):  # more than tidemark's --concurrency: nothing waits for a thread
        threading.Thread(target=worker, args=(jobs,), daemon=True).start()
    for line in sys.stdin:
        req = json.loads(line)
        if req["type"] == "hello":
            send({"type": "ready", "protocol": 1})
        elif req["type"] == "shutdown":
            return  # answers still owed are of no interest any more
        else:
            jobs.put(req)
    jobs.join()  # end of input (a by-hand session): answer what was asked first


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""An exec client that answers every op at once without contacting anything (bench/exec_client.sh).

Appends get made-up offsets and reads an empty range, so the checkers will not call the run
valid: what is measured is the harness's cost per op, not the system's.
"""
import sys

out = sys.stdout
for line in sys.stdin:
    if '"type":"hello"' in line:
        out.write('{"type":"ready","protocol":1}\n')
    elif '"type":"shutdown"' in line:
        break
    else:
        i = line.index('"id":') + 5
        rid = line[i:line.index(",", i)]
        if '"type":"status"' in line:
            out.write('{"id":%s,"type":"ok","value":{"role":"leader","generation":1}}\n' % rid)
        elif '"f":"append"' in line:
            out.write('{"id":%s,"type":"ok","value":{"value":"x","offset":%s,"hwm":%s}}\n'
                      % (rid, rid, rid))
        else:
            out.write('{"id":%s,"type":"fail","error":"not performed"}\n' % rid)
    out.flush()

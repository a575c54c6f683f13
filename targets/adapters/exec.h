// The exec adapter ("adapter": "exec"): the user's own client program, in any language, speaks
// to the system under test; tidemark speaks to the program over its stdin and stdout, one JSON
// object per line (exec_protocol.h; docs/client-protocol.md).
//
// A run has one session (registry.h), which starts:
//   - the ops program (role "ops"): every slot's ops go to it, one in flight per slot, told
//     apart by id. It is read on the harness's event loop (a Channel, stepped.h);
//   - one status program (role "status") per status client, started on its first call, for
//     `status` requests (readiness, the leader) from whichever thread owns that client.
// Same argv for both; hello tells each its role.
//
// The harness stays the judge:
//   - an op not answered within its timeout_ms plus kGraceMs completes `info` ("timeout"); an
//     answer that comes later is a late reply in client/client.log, never in the history;
//   - a program that exits or closes stdout: its ops in flight complete `info` ("client
//     crashed"), the crash and the tail of its stderr go to client.log, and it is restarted, up
//     to the descriptor's client.max_restarts; one crash more and the session is fatal (the run
//     ends `unknown` with the reason);
//   - a line that is not a reply, or a reply for an id never sent or already answered, is fatal
//     at once: the error quotes the line and the program's argv and says what was expected.
// Each program's stderr is appended to client/<role>.stderr in the run directory.
//
// Threading: the session and its op clients belong to the driver thread; each status client to
// the thread that uses it; client.log is shared under a mutex.
#pragma once

#include "targets/adapters/registry.h"

namespace tidemark::targets {

// Extra time, beyond an op's timeout_ms, before the harness gives up on the answer (ms).
inline constexpr int kExecGraceMs = 500;

Adapter ExecAdapter();

// The descriptor's client argv with {bin_dir} and {descriptor_dir} filled. Errors: any other
// placeholder (the message names it).
Result<std::vector<std::string>> ExpandClientArgv(const Descriptor& d, const std::string& bin_dir);

}  // namespace tidemark::targets

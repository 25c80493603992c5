// SIGINT/SIGTERM for programs that run in the foreground until stopped (`nds start`, `nds demo`):
// block them in every thread, then wait for one on the main thread with sigwait. Child processes
// that NodeProcess spawns start with the signals unblocked.
#pragma once

namespace nds::launcher {

// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread it starts afterwards.
// Call before any thread starts, so that only WaitForStopSignal sees them.
void BlockStopSignals();

// Waits until SIGINT or SIGTERM arrives (precondition: BlockStopSignals ran); returns which.
int WaitForStopSignal();

}  // namespace nds::launcher

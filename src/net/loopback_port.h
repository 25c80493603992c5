// Ports on 127.0.0.1 for nodes that a test, `nds demo` or `nds check` is about to start.
#pragma once

#include <cstdint>

namespace nds::net {

// A port on 127.0.0.1 that is free right now, for a listener that will be bound a moment later.
// It is taken below the kernel's ephemeral range (ip_local_port_range), so the outgoing
// connections of this or another process cannot take it meanwhile, and it is never handed out
// twice by one process, so the ports of one local cluster all differ. Returns 0 when none is
// found. Another process may still bind it first: callers check PortFree when they start.
uint16_t FreePort();

// Whether a listening socket could be bound to 127.0.0.1:`port` right now (with SO_REUSEADDR, as
// nds binds its listeners, so a port in TIME_WAIT counts as free).
bool PortFree(uint16_t port);

// A listening TCP socket (SO_REUSEADDR, close-on-exec) on 127.0.0.1:`port`, 0 letting the kernel
// pick; -1 when it cannot be bound. The caller closes it.
int ListenLoopback(uint16_t port);

}  // namespace nds::net

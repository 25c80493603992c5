// One `nds check` run, start to finish: starts the local cluster (or takes the given servers),
// runs the clients, the /role watch and the faults, heals the cluster, reads every key on every
// node, stops everything, and checks what was recorded (docs/check.md).
//
// Called on the main thread; it starts and joins every other thread itself.
#pragma once

#include <ostream>

#include "check/check_options.h"
#include "check/report.h"
#include "util/status.h"

namespace nds::check {

// Precondition: options.Validate() is ok. Progress lines go to `progress`. Returns the report
// (which says whether there were anomalies), or an error when the run could not take place: the
// local cluster did not start (kUnavailable / kTimeout, naming the node), or the history could
// not be written (kIoError).
Result<CheckReport> RunCheck(const CheckOptions& options, std::ostream& progress);

}  // namespace nds::check

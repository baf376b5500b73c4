// tests/cluster/bulk_tasks.hpp: task functions of the bulk channel tests
// (cluster_bulk_test.cpp), registered with CASK_REMOTE; built into the test binary and
// into cask_test_tasks.
#pragma once

#include <string>
#include <vector>

namespace cluster_tasks {

/// Appends "start <pid>" to `log`, waits (up to 30 s) for the file `gate`, then returns
/// byte_ramp(n, first): run two at once to have one value on each worker.
std::vector<unsigned char> gated_ramp(std::string gate, std::string log, int n, int first);

/// {worker pid, a.size(), b.size(), sum of a's bytes, sum of b's bytes}.
std::vector<long long> ramp_sums(std::vector<unsigned char> a, std::vector<unsigned char> b);

}  // namespace cluster_tasks

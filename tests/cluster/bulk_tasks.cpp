#include "bulk_tasks.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <stdexcept>
#include <thread>

#include <cask/cask.hpp>

#include "tasks.hpp"

namespace cluster_tasks {

std::vector<unsigned char> gated_ramp(std::string gate, std::string log, int n, int first) {
  std::ofstream(log, std::ios::app) << "start " << getpid() << "\n";
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!std::filesystem::exists(gate)) {
    if (std::chrono::steady_clock::now() > until)
      throw std::runtime_error("gated_ramp: " + gate + " did not appear in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return byte_ramp(n, first);
}

std::vector<long long> ramp_sums(std::vector<unsigned char> a, std::vector<unsigned char> b) {
  return {static_cast<long long>(getpid()), static_cast<long long>(a.size()),
          static_cast<long long>(b.size()), std::accumulate(a.begin(), a.end(), 0LL),
          std::accumulate(b.begin(), b.end(), 0LL)};
}

CASK_REMOTE(gated_ramp);
CASK_REMOTE(ramp_sums);

}  // namespace cluster_tasks

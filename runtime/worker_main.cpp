// runtime/worker_main.cpp: the cask-worker executable (Dask: dask-worker).
//
//   cask-worker HOST:PORT [--nthreads N] [--name NAME] [--preload LIB.so]...
//               [--death-timeout SECONDS] [--config FILE]
//
// Runs the functions compiled into it (all of the cask library is linked in and exported)
// and those registered by the --preload libraries, until SIGINT or SIGTERM. Exit codes:
// 0 after a clean stop, 1 when the worker cannot run (a preload library fails to load, the
// scheduler stays away longer than --death-timeout), 2 on bad arguments.
#include <malloc.h>
#include <unistd.h>

#include <cstdio>

#include <chrono>
#include <climits>
#include <cmath>
#include <string>

#include <CLI/CLI.hpp>

#include "cask/errors.hpp"
#include "runtime/cluster_node.hpp"
#include "runtime/log.hpp"
#include "runtime/stop_on_signals.hpp"

namespace {

std::string default_name() {
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return (host[0] ? std::string(host) : std::string("worker")) + "-" +
         std::to_string(getpid());
}

/// Big values (fetched bytes, decoded arguments, results) are allocated and freed task
/// after task. glibc maps each block above 32 MB fresh and unmaps it when freed, and
/// faulting in 100 MB of fresh pages costs 50-80 ms on a VM, more than copying them: such
/// blocks come from the heap instead, which keeps up to 1 GiB of freed memory for the next
/// values (measured: a 100 MB value between two workers, 180-350 -> 350-480 MB/s).
/// That heap must be the main arena: a thread's own arena (slots, CAF's threads, the bulk
/// fetcher) grows by 64 MB heaps at most, so glibc maps every bigger block fresh for it
/// whatever M_MMAP_MAX says (measured: 50 ms for each 100 MB buffer made on a thread, 1-2 ms
/// with one arena). One arena serialises malloc between a worker's threads; a worker has
/// few of them.
void keep_freed_memory_for_big_values() {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_ARENA_MAX, 1);
}

}  // namespace

int main(int argc, char** argv) {
  namespace detail = cask::detail;
  detail::block_stop_signals();  // before any thread starts
  keep_freed_memory_for_big_values();

  detail::WorkerConfig config;
  std::string scheduler;
  double death_timeout = 0;
  CLI::App app{"A worker of a cask cluster: joins the scheduler at HOST:PORT and runs tasks.",
               "cask-worker"};
  app.add_option("scheduler", scheduler, "Address of the cask-scheduler")
      ->required()
      ->type_name("HOST:PORT")
      ->check([](const std::string& text) {
        try {
          detail::Address::parse(text);
          return std::string();
        } catch (const cask::Error& e) {
          return std::string(e.what());
        }
      });
  app.add_option("--nthreads", config.nthreads, "Tasks run at the same time (threads)")
      ->check(CLI::Range(1, INT_MAX))
      ->capture_default_str();
  app.add_option("--name", config.name, "Name of this worker (default: HOSTNAME-PID)");
  app.add_option("--preload", config.preload,
                 "Shared library to load before joining, for the functions it registers "
                 "(repeatable)")
      ->type_name("LIB.so")
      ->allow_extra_args(false);  // one per --preload: the address can follow
  app.add_option("--death-timeout", death_timeout,
                 "Give up after this long without a scheduler (0: never)")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  app.set_config("--config", "", "Read these options from a TOML or INI file")
      ->type_name("FILE");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help: 0; CLI11's own codes are 100+
  }
  if (config.name.empty()) config.name = default_name();
  config.death_timeout = std::chrono::milliseconds(std::llround(death_timeout * 1000));

  return detail::run_and_exit("worker " + config.name, [&](const detail::StopFlag& stop) {
    config.scheduler = detail::Address::parse(scheduler);
    return detail::run_worker(config, stop);
  });
}

// runtime/scheduler_main.cpp: the cask-scheduler executable (Dask: dask-scheduler).
//
//   cask-scheduler [--host 127.0.0.1] [--port 8786] [--allowed-failures 3]
//                  [--port-file PATH] [--config FILE]
//
// Runs until SIGINT or SIGTERM. Exit codes: 0 after a clean stop, 1 when the scheduler
// cannot run (e.g. the port is taken), 2 on bad arguments.
#include <string>

#include <CLI/CLI.hpp>

#include "cask/errors.hpp"
#include "runtime/cluster_node.hpp"
#include "runtime/log.hpp"
#include "runtime/stop_on_signals.hpp"

int main(int argc, char** argv) {
  namespace detail = cask::detail;
  detail::block_stop_signals();  // before any thread starts

  detail::SchedulerConfig config;
  int port = config.port;
  CLI::App app{"The scheduler of a cask cluster: workers and clients connect to it.",
               "cask-scheduler"};
  app.add_option("--host", config.host, "Interface to listen on")->capture_default_str();
  app.add_option("--port", port, "Port to listen on (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--allowed-failures", config.allowed_failures,
                 "Workers a task may see die under it before it is marked failed")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--port-file", config.port_file,
                 "Write the port actually bound to this file once listening")
      ->type_name("PATH");
  app.set_config("--config", "", "Read these options from a TOML or INI file")
      ->type_name("FILE");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help: 0; CLI11's own codes are 100+
  }
  config.port = static_cast<std::uint16_t>(port);

  return detail::run_and_exit("scheduler", [&](const detail::StopFlag& stop) {
    return detail::run_scheduler(config, stop);
  });
}

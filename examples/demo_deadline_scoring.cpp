// This program demonstrates deadline-bound scoring: combine the models that answered in time.
//
// The chapter's use case "timeouts" (examples 6-7 and 6-8): a boosted model must decide
// within a time budget, so it collects the scores of every model that answered in time and
// skips the ones that did not. Five "models" with different latencies score one ad request
// (three answer in 0.1 to 1 s, two would need 20 and 30 s); the budget is 3 s. In Python
// with Dask this would be:
//
//   futures = [client.submit(score, m, request) for m in models]
//   done, not_done = [], futures
//   while not_done and time.time() < deadline:
//       try:
//           finished = wait(not_done, deadline - time.time(), return_when=FIRST_COMPLETED)
//           done += finished.done
//           not_done = finished.not_done
//       except TimeoutError:
//           break
//   client.cancel(not_done)
//   combined = mean(f.result() for f in done)
//
// Each task is submitted with options{.deadline = deadline} (work that has not started by
// then would be cancelled without running; each model can read it with
// cask::this_task::deadline()), and main waits with cask::wait_until(..., deadline,
// FIRST_COMPLETED), printing each score as it arrives. At the deadline the slow models are
// cancelled; they sleep with cask::this_task::sleep_for, which wakes on cancellation, so
// they stop at once instead of running on for 20 s. The latencies are far from the budget
// so that the same models make it on a loaded machine. Time is scaled by
// CASK_EXAMPLE_TIME_SCALE (see example_time.hpp).
#include <cask/cask.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "example_time.hpp"

using clock_type = std::chrono::steady_clock;

struct Model {
  std::string name;
  double latency;  ///< chapter seconds to score one request
  double weight;   ///< what it answers (a real model would compute this from the request)
};
const std::vector<Model> models = {
    {"logistic_regression", 0.1, 0.62}, {"gradient_boosting", 0.5, 0.71},
    {"random_forest", 1.0, 0.68},       {"deep_ctr_net", 20, 0.90},
    {"ensemble_of_everything", 30, 0.85},
};
const double budget = 3;  // chapter seconds

// What each model task did, written by the tasks, read by main once they all returned.
struct ModelLog {
  bool saw_deadline = false;  ///< cask::this_task::deadline() was set
  bool returned = false;
  bool stopped_early = false;  ///< woken by cancellation
  double ran_for = 0;          ///< chapter seconds
};
std::mutex log_mutex;
std::condition_variable log_changed;
std::map<std::string, ModelLog> model_log;

// A real model would look at the request; these answer a fixed score.
double score(const std::string& model_name, [[maybe_unused]] int request_id) {
  const auto start = clock_type::now();
  const Model& model = *std::find_if(models.begin(), models.end(),
                                     [&](const Model& m) { return m.name == model_name; });
  const bool saw_deadline = cask::this_task::deadline().has_value();
  // Scoring takes the model's latency; cancellation wakes it up early.
  const bool completed = cask::this_task::sleep_for(examples::seconds(model.latency));
  {
    std::lock_guard lock(log_mutex);
    model_log[model_name] = {saw_deadline, true, !completed,
                             examples::chapter_seconds(clock_type::now() - start)};
  }
  log_changed.notify_all();
  if (!completed) throw std::runtime_error(model_name + " stopped: cancelled");  // dropped
  return model.weight;
}

int main() {
  cask::Client client{{.workers = static_cast<int>(models.size()), .threads_per_worker = 1}};
  const int request_id = 42;
  std::cout << std::fixed << std::setprecision(1);
  std::cout << "scoring request " << request_id << " with " << models.size()
            << " models, budget " << budget << " s\n";

  const auto start = clock_type::now();
  const auto deadline = start + examples::seconds(budget);
  std::vector<cask::Future<double>> futures;
  std::map<std::string, std::string> model_of;  // future key -> model name
  for (const auto& m : models) {
    futures.push_back(
        client.submit(cask::options{.deadline = deadline}, score, m.name, request_id));
    model_of[futures.back().key()] = m.name;
  }

  // Take the scores as they come until the deadline (example 6-8's loop, bounded by a
  // point in time instead of max_wait).
  std::vector<cask::Future<double>> done;
  std::vector<cask::Future<double>> not_done = futures;
  while (!not_done.empty()) {
    try {
      auto finished = cask::wait_until(not_done, deadline, cask::FIRST_COMPLETED);
      for (auto& f : finished.done) {
        std::cout << "  made it: " << std::left << std::setw(24) << model_of.at(f.key())
                  << std::right << std::setprecision(2) << " score " << f.result()
                  << std::setprecision(1) << "  (at "
                  << examples::chapter_seconds(clock_type::now() - start) << " s)" << std::endl;
        done.push_back(f);
      }
      not_done = finished.not_done;
    } catch (const cask::TimeoutError&) {
      break;  // the budget is spent
    }
  }
  std::cout << "deadline reached at " << examples::chapter_seconds(clock_type::now() - start)
            << " s\n";

  // Cancel the models that did not make it.
  client.cancel(not_done);
  for (const auto& f : not_done)
    std::cout << "  missed:  " << std::left << std::setw(24) << model_of.at(f.key()) << std::right
              << " " << f.status() << "\n";

  double sum = 0;
  for (const auto& f : done) sum += f.result();
  std::cout << std::setprecision(3) << "combined score from " << done.size() << " of "
            << models.size() << " models: " << (done.empty() ? 0.0 : sum / done.size())
            << std::setprecision(1) << "\n";

  // Every model task returns promptly: the cancelled ones were woken up, not left to sleep.
  {
    std::unique_lock lock(log_mutex);
    const bool all_returned = log_changed.wait_for(lock, std::chrono::seconds(10), [] {
      return model_log.size() == models.size();
    });
    if (!all_returned) {
      std::cout << "only " << model_log.size() << " of " << models.size()
                << " model tasks returned within 10 s\n";
      return 1;
    }
  }
  bool all_saw_deadline = true;
  for (const auto& m : models) {
    const ModelLog& log = model_log.at(m.name);
    all_saw_deadline = all_saw_deadline && log.saw_deadline;
    std::cout << "  " << std::left << std::setw(24) << m.name << std::right
              << (log.stopped_early ? " stopped by cancellation after " : " finished after ")
              << log.ran_for << " s of its " << m.latency << " s\n";
  }
  std::cout << "every model saw the request's deadline (cask::this_task::deadline()): "
            << std::boolalpha << all_saw_deadline << "\n";
}

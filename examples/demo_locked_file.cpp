// This program demonstrates a cask::Lock guarding a shared file that many tasks append to.
//
// Tasks that write to one resource outside the cluster (a file, a device, a legacy
// service) must not interleave their writes. A named lock (Dask: distributed.Lock) is
// held by one task at a time, wherever the tasks run. Here eight tasks append 25 lines
// each to one file; every line is written in three pieces with a pause between them, so
// that without the lock pieces of different tasks' lines would mix. In Python with Dask
// this would be:
//
//   def append_lines(task, path):
//       lock = Lock("log-file")
//       for line in range(25):
//           with lock:
//               with open(path, "a") as f:
//                   for piece in (f"task={task}", f" line={line:02d}", " end\n"):
//                       f.write(piece); f.flush(); time.sleep(0.001)
//       return 25
//
//   futures = client.map(append_lines, range(8), [path] * 8)
//   wait(futures)
//
// Each task opens its own cask::Lock of the same name (separately constructed Locks of
// one name exclude each other) and takes it with std::lock_guard. At the end the program
// reads the file back and checks that every line is whole and that each of the 200 lines
// is there exactly once; it also checks that no two tasks were ever inside the lock at
// once. Time is scaled by CASK_EXAMPLE_TIME_SCALE (see example_time.hpp).
#include <cask/cask.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "example_time.hpp"

constexpr int kTasks = 8;
constexpr int kLinesPerTask = 25;

std::string two_digits(int x) { return (x < 10 ? "0" : "") + std::to_string(x); }

// Whether two tasks are ever inside the lock at once, wherever they run (on a cluster, in
// different processes): a task entering creates the marker file <path>.inside, which
// fails when another task is inside, and removes it when it leaves. A task that finds
// the marker there reports it on the queue "overlaps"; the client counts the reports.
struct Inside {
  explicit Inside(const std::string& path) : marker_(path + ".inside") {
    const int fd = ::open(marker_.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    alone_ = fd >= 0;
    if (alone_)
      ::close(fd);
    else
      cask::Queue<int>{"overlaps"}.put(1);
  }
  ~Inside() {
    if (alone_) std::filesystem::remove(marker_);
  }
  std::string marker_;
  bool alone_ = false;
};

int append_lines(int task, std::string path) {
  cask::Lock lock{"log-file"};  // inside a task: the lock of the task's cluster
  for (int line = 0; line < kLinesPerTask; ++line) {
    std::lock_guard guard{lock};
    Inside inside{path};
    std::ofstream file(path, std::ios::app);
    for (const std::string& piece : {"task=" + std::to_string(task), " line=" + two_digits(line), std::string(" end\n")}) {
      file << piece << std::flush;
      cask::this_task::sleep_for(examples::seconds(0.001));
    }
  }
  return kLinesPerTask;
}
// On a cluster (examples/run_on_cluster.sh) the workers run it by name.
CASK_REMOTE(append_lines);

int main() {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("cask_demo_locked_file_" + std::to_string(getpid()) + ".txt")).string();
  std::filesystem::remove(path);
  std::filesystem::remove(path + ".inside");

  cask::Client client{{.workers = 4, .threads_per_worker = 1}};
  std::cout << kTasks << " tasks append " << kLinesPerTask
            << " lines each to one file, holding the lock \"log-file\" for each line\n";
  std::cout << "each line is written in 3 pieces: task=<t>, line=<nn>, end\n";

  std::vector<int> tasks;
  for (int t = 0; t < kTasks; ++t) tasks.push_back(t);
  std::vector<cask::Future<int>> futures = client.map(append_lines, tasks, std::vector<std::string>(kTasks, path));
  int appended = 0;
  for (auto& f : futures) appended += f.result(std::chrono::seconds(30));
  std::cout << "all tasks done: " << appended << " lines appended\n";

  // Read the file back: each line whole, each (task, line) exactly once.
  std::ifstream in(path);
  const std::regex whole(R"(task=([0-9]+) line=([0-9]{2}) end)");
  std::map<std::pair<int, int>, int> seen;
  int lines = 0, broken = 0;
  for (std::string text; std::getline(in, text);) {
    ++lines;
    std::smatch m;
    if (!std::regex_match(text, m, whole)) {
      if (++broken <= 3) std::cout << "  broken line: \"" << text << "\"\n";
      continue;
    }
    ++seen[{std::stoi(m[1]), std::stoi(m[2])}];
  }
  bool each_once = true;
  for (int t = 0; t < kTasks; ++t)
    for (int l = 0; l < kLinesPerTask; ++l) {
      auto it = seen.find({t, l});
      if (it == seen.end() || it->second != 1) each_once = false;
    }
  each_once = each_once && static_cast<int>(seen.size()) == kTasks * kLinesPerTask;
  std::filesystem::remove(path);

  const bool ok = lines == kTasks * kLinesPerTask && broken == 0 && each_once;
  if (ok)
    std::cout << "file ok: " << lines << " lines from " << kTasks << " tasks\n";
  else
    std::cout << "file NOT ok: " << lines << " lines, " << broken << " broken, each line exactly once: "
              << std::boolalpha << each_once << "\n";
  const bool one_at_a_time = cask::Queue<int>{"overlaps", client}.size() == 0;
  std::cout << "at most one task held the lock at a time: " << std::boolalpha << one_at_a_time << "\n";
  const bool free_at_end = !cask::Lock{"log-file", client}.locked();
  std::cout << "the lock is free at the end: " << free_at_end << "\n";

  return ok && one_at_a_time && free_at_end ? 0 : 1;
}

// This program demonstrates a producer/consumer pipeline between tasks through cask::Queue.
//
// Tasks hand work to each other through named queues (Dask: distributed.Queue) instead of
// through futures: two producer tasks put the numbers 1..100 into the queue "numbers",
// three consumer tasks take them out, square them and put the squares into "squares", and
// the client takes the 100 squares out at the end. In Python with Dask this would be:
//
//   def producer(lo, hi):
//       q = Queue("numbers")
//       for x in range(lo, hi):
//           q.put(x)
//       return hi - lo
//
//   def consumer():
//       numbers, squares, n = Queue("numbers"), Queue("squares"), 0
//       while (x := numbers.get()) != STOP:
//           time.sleep(0.02)                 # some work per item
//           squares.put(x * x)
//           n += 1
//       return n
//
//   consumers = [client.submit(consumer, pure=False) for _ in range(3)]
//   producers = [client.submit(producer, 1, 51), client.submit(producer, 51, 101)]
//   wait(producers)
//   for _ in consumers: Queue("numbers").put(STOP)   # one stop sentinel per consumer
//   squares = Queue("squares").get(batch=100)
//
// The consumers start first and wait in get(): a task blocked on a queue gives its worker
// slot back, so the producers still run on the three one-slot workers. The queue is FIFO,
// and the client puts the sentinels only after both producers returned, so every number
// is taken before the sentinels and each consumer stops after exactly one of them. At the
// end the program checks that every square arrived exactly once and their sum is 338350.
// Time is scaled by CASK_EXAMPLE_TIME_SCALE (see example_time.hpp).
#include <cask/cask.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <vector>

#include "example_time.hpp"

constexpr int STOP = 0;  // the numbers are 1..100, so 0 can mark the end

int producer(int lo, int hi) {
  cask::Queue<int> numbers{"numbers"};  // inside a task: the queue of the task's cluster
  for (int x = lo; x < hi; ++x) numbers.put(x);
  return hi - lo;
}

int consumer() {
  cask::Queue<int> numbers{"numbers"};
  cask::Queue<int> squares{"squares"};
  int n = 0;
  for (int x = numbers.get(); x != STOP; x = numbers.get()) {
    cask::this_task::sleep_for(examples::seconds(0.02));  // some work per item
    squares.put(x * x);
    ++n;
  }
  return n;
}

// On a cluster (examples/run_on_cluster.sh) the workers run them by name.
CASK_REMOTE(producer);
CASK_REMOTE(consumer);

int main() {
  cask::Client client{{.workers = 3, .threads_per_worker = 1}};
  cask::Queue<int> numbers{"numbers", client};
  cask::Queue<int> squares{"squares", client};
  std::cout << "pipeline: 2 producers -> queue \"numbers\" -> 3 consumers (x*x) -> queue "
               "\"squares\" -> client\n";

  std::vector<cask::Future<int>> consumers;
  for (int i = 0; i < 3; ++i) consumers.push_back(client.submit(cask::options{.pure = false}, consumer));
  std::vector<cask::Future<int>> producers = {client.submit(producer, 1, 51),
                                              client.submit(producer, 51, 101)};
  const std::vector<int> produced = client.gather(producers);
  std::cout << "producers put " << produced[0] + produced[1] << " numbers (" << produced[0]
            << " + " << produced[1] << ")\n";

  for (std::size_t i = 0; i < consumers.size(); ++i) numbers.put(STOP);
  std::cout << "client put " << consumers.size() << " stop sentinels\n";

  // The consumers return once they took their sentinel; how the numbers were shared out
  // between them depends on timing.
  int consumed = 0;
  std::cout << "consumers squared:";
  for (auto& f : consumers) {
    const int n = f.result(std::chrono::seconds(30));
    std::cout << " " << n;
    consumed += n;
  }
  std::cout << " = " << consumed << " numbers\n";

  // All or nothing: wait for 100 squares (they are all there already).
  std::vector<int> got = squares.get_batch(100, std::chrono::seconds(10));
  std::cout << "client took " << got.size() << " squares from \"squares\"\n";

  long sum = 0;
  for (int s : got) sum += s;
  std::cout << "sum of squares 1..100 = " << sum << " (expected 338350)\n";

  std::sort(got.begin(), got.end());
  bool each_once = got.size() == 100;
  for (int x = 1; each_once && x <= 100; ++x) each_once = got[x - 1] == x * x;
  std::cout << "every number came through exactly once: " << std::boolalpha << each_once << "\n";
  const bool empty = numbers.size() == 0 && squares.size() == 0;
  std::cout << "both queues empty at the end: " << empty << "\n";

  return consumed == 100 && sum == 338350 && each_once && empty ? 0 : 1;
}

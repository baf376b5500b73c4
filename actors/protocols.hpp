// actors/protocols.hpp: the typed message protocols between cask's actors.
//
// Who talks to whom (embedded mode; every arrow is one CAF message):
//
//   client ──submit──▶ scheduler ──spawn──▶ future actor (one per key)
//                        │    ▲    ──subscribe/outcome──▶ future actor ──dep_done──▶ dependents
//                 execute│    │job_done                        │
//                        ▼    │                                └──ready (inputs in)──▶ scheduler
//                       worker ─ runs Job on an execution slot; never on a CAF thread
//   slot ──complete──▶ FutureCore of the submitting handle (a direct, thread-safe call)
//   future actor ──complete──▶ FutureCore of every other handle
//
// A future actor is spawned lazily and is only activated when it has something to do:
// subscribers waiting for its outcome, inputs to collect, a deadline, a cancel. A future
// that nobody else subscribed to finishes without ever running its actor; the scheduler's
// task table keeps the finished Job until someone asks, and CAF collects the actor as
// unreachable once the table lets go of it.
//
// Local-only payloads (JobPtr, Outcome, Value) travel by pointer: in-process a value is
// never copied or serialised.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "cask/detail/coordination.hpp"
#include "cask/detail/task_spec.hpp"
#include "cask/stats.hpp"
#include "cask/status.hpp"

namespace cask {
// ClusterStats crosses processes (a remote client's stats()). Declared here, where every
// translation unit that sends it sees it: CAF's serialiser is a template instantiated per
// unit, and one that did not see `inspect` would silently send nothing.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ClusterStats& x) {
  return f(caf::meta::type_name("cask.ClusterStats"), x.waiting, x.queued, x.processing,
           x.finished, x.erred, x.future_actors, x.workers, x.slots, x.slots_busy,
           x.coordination_objects, x.actors);
}
}  // namespace cask

namespace cask::detail {

// Atoms: at most 10 characters, [0-9A-Za-z_ ] only (CAF 0.17).
using submit_atom = caf::atom_constant<caf::atom("submit")>;
using scatter_atom = caf::atom_constant<caf::atom("scatter")>;
using ready_atom = caf::atom_constant<caf::atom("ready")>;
using execute_atom = caf::atom_constant<caf::atom("execute")>;
using job_done_atom = caf::atom_constant<caf::atom("job_done")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using dep_done_atom = caf::atom_constant<caf::atom("dep_done")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using forget_atom = caf::atom_constant<caf::atom("forget")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
using capacity_atom = caf::atom_constant<caf::atom("capacity")>;
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;
using notify_atom = caf::atom_constant<caf::atom("notify")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using dispatch_atom = caf::atom_constant<caf::atom("dispatch")>;
using adopted_atom = caf::atom_constant<caf::atom("adopted")>;
using coord_atom = caf::atom_constant<caf::atom("coord")>;
using attach_atom = caf::atom_constant<caf::atom("attach")>;
using detach_atom = caf::atom_constant<caf::atom("detach")>;
using retire_atom = caf::atom_constant<caf::atom("retire")>;
using open_atom = caf::atom_constant<caf::atom("open")>;
using name_atom = caf::atom_constant<caf::atom("name")>;
using call_atom = caf::atom_constant<caf::atom("call")>;

/// The final (or retry) result of one run of a task.
struct Outcome {
  Status status = Status::pending;
  Value value;
  std::exception_ptr error;
};

struct Job;
using JobPtr = std::shared_ptr<Job>;

/// Who wants a future's outcome: a client handle (held weakly, so that a subscription
/// never keeps a reference alive) or another future actor waiting for its inputs.
struct Listener {
  std::weak_ptr<FutureCore> core;
  caf::strong_actor_ptr dependent;  // a future_actor, when set
  std::size_t slot = 0;             // which input of the dependent this is
};

/// One future per task key. Holds the task's state, its outcome and its subscribers.
using future_actor = caf::typed_actor<
    caf::reacts_to<subscribe_atom, Listener>,             // from scheduler: a handle/dependent
    caf::reacts_to<done_atom, Outcome>,                   // from scheduler: the final outcome
    caf::reacts_to<dep_done_atom, std::size_t, Outcome>,  // an input is final
    caf::reacts_to<cancel_atom>,                          // cancelled: tell subscribers, quit
    caf::reacts_to<shutdown_atom>>;                       // cluster stops: cancel, quit

/// The phases of a Job; the transitions queued->running and queued/running->cancelled
/// race between a worker slot and a cancel, so they are atomic.
// stolen: taken back from a worker's queue before it started, to run on another worker
// (cluster work stealing); the slot that pops it drops it without a report.
enum class JobPhase : int { queued, running, cancelled, stolen };

/// One run of a task: what a worker slot executes. Created by the scheduler (no inputs)
/// or by the future actor once its inputs are in; always handed back to the scheduler.
struct Job {
  Key key;
  TaskFn fn;
  std::vector<Value> inputs;
  std::stop_source stop;
  std::atomic<JobPhase> phase{JobPhase::queued};
  int priority = 0;
  std::uint64_t seq = 0;  // submission order, breaks priority ties
  std::uint64_t run = 0;  // cluster: the scheduler's number for this run of the key
  int retries_left = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline;  // must start by then
  // The handle that submitted the task: the slot completes it directly, so the waiting
  // thread wakes without any actor hop (every other subscriber hears from the future
  // actor; completing a handle twice is a no-op).
  std::weak_ptr<FutureCore> submitter;
  std::size_t worker = SIZE_MAX;  // index of the worker it was assigned to
  Outcome outcome;                // written by the slot before job_done is sent
  // Set (release) once `outcome` is final and about to reach the submitting handle: from
  // then on a cancel must answer with the outcome, though job_done may still be on its way.
  std::atomic<bool> published{false};
  std::chrono::nanoseconds run_time{0};  // how long the slot ran it
  // Not the scheduler's (an actor host's runner): the slot does not report it done.
  bool internal = false;

  /// Makes `out` the final outcome (a cancel from now on answers with it) and completes
  /// the submitting handle with it. Defined in runtime/execution_pool.cpp.
  void publish(Outcome out);

  /// Cancels the job if it has not finished: it will not start, or is asked to stop.
  void cancel() {
    phase.store(JobPhase::cancelled, std::memory_order_release);
    stop.request_stop();
  }
};

/// A queued job with its ordering keys copied out, so that heap operations compare
/// plain values instead of chasing a pointer per comparison.
struct QueuedJob {
  int priority;
  std::uint64_t seq;
  JobPtr job;
  explicit QueuedJob(JobPtr j) : priority(j->priority), seq(j->seq), job(std::move(j)) {}
};

/// Higher priority first, then submission order.
struct JobOrder {
  bool operator()(const QueuedJob& a, const QueuedJob& b) const {
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.seq > b.seq;
  }
};

/// A submitted task together with the handle that asked for it.
struct Submission {
  TaskSpec spec;  // spec.key is not used: `key` is the handle's shared copy
  Key key;
  std::weak_ptr<FutureCore> handle;
  std::uintptr_t holder = 0;  // identity of the handle, for release()
};
using SubmissionBatch = std::shared_ptr<std::vector<Submission>>;

/// A handle asking for its task to be cancelled; the scheduler completes it with the result.
struct Cancellation {
  Key key;
  std::weak_ptr<FutureCore> canceller;
};
using CancelBatch = std::shared_ptr<std::vector<Cancellation>>;

class ReplyToken;  // actors/reply.hpp
using ReplyPtr = std::shared_ptr<ReplyToken>;

/// A handle asking the scheduler's registry for the coordination object `name` of `kind`
/// (actors/coordination.hpp); answered with the object's actor, created on first use.
struct OpenRequest {
  CoordKind kind = CoordKind::queue;
  std::string name;
  std::string type;       // value type; must match the object's
  std::size_t limit = 0;  // a semaphore's maximum of leases; must match
  ReplyPtr reply;
};

/// Named actors (Client::get_actor): the registry maps a name to a live ActorRef.
enum class NameOp : std::uint8_t { add, find, remove };
struct NameRequest {
  NameOp op = NameOp::find;
  std::string name;
  std::string type;          // the actor's C++ type; must match on find
  std::weak_ptr<void> ref;   // add, remove: the ActorRef
  ReplyPtr reply;            // add, find (find answers Reply::object)
};

/// The worker: runs jobs on its own execution slots.
using worker_actor = caf::typed_actor<
    caf::reacts_to<execute_atom, std::vector<JobPtr>>,
    caf::reacts_to<shutdown_atom>>;

/// The scheduler: task table, dependency bookkeeping, ready queue, placement.
using scheduler_actor = caf::typed_actor<
    caf::reacts_to<submit_atom, SubmissionBatch>,
    caf::reacts_to<scatter_atom, Key, Outcome, std::weak_ptr<FutureCore>, std::uintptr_t>,
    caf::reacts_to<ready_atom, JobPtr>,                  // future actor: inputs are in
    caf::reacts_to<job_done_atom, JobPtr>,               // worker slot: job ran (or not)
    caf::reacts_to<done_atom, std::string, Status>,      // future actor: final without a run
    caf::reacts_to<dispatch_atom>,                       // to itself: place ready jobs
    caf::reacts_to<deadline_atom, Key>,                  // to itself: a task's deadline passed
    caf::reacts_to<release_atom, Key, std::uintptr_t>,           // key, holder
    caf::reacts_to<cancel_atom, CancelBatch>,
    caf::reacts_to<forget_atom, std::vector<std::string>>,
    caf::reacts_to<capacity_atom, std::size_t, int>,  // worker, +/- slots (secede/rejoin)
    caf::reacts_to<adopted_atom, Key, Outcome>,        // an adopted input (actor call) is final
    caf::reacts_to<open_atom, OpenRequest>,            // registry: a coordination handle opens
    caf::reacts_to<retire_atom, CoordKind, std::string, std::uint64_t>,  // object: may I quit?
    caf::reacts_to<name_atom, NameRequest>,            // registry: named actors
    caf::replies_to<stats_atom>::with<ClusterStats>,
    caf::replies_to<drain_atom>::with<bool>,     // once no fire_and_forget work is left
    caf::replies_to<shutdown_atom>::with<bool>>;  // after every actor was told to stop

}  // namespace cask::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cask::detail::Outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cask::detail::Key)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cask::detail::JobPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<cask::detail::JobPtr>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cask::detail::Listener)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cask::detail::SubmissionBatch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cask::detail::CancelBatch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cask::detail::OpenRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cask::detail::NameRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cask::detail::CoordKind)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cask::Status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::weak_ptr<cask::detail::FutureCore>)

// cask/nested.hpp: submitting from inside tasks (Dask: get_client, secede, rejoin).
//
//   int nested(int x) {
//     cask::Client client = cask::get_client();         // the cluster running this task
//     auto fs = client.map(slow, std::views::iota(0, x));
//     int r = 0;
//     for (auto& f : cask::as_completed(fs)) r += f.result();
//     return r;
//   }
//
// Unlike Dask, there is no need to secede by hand: a task blocked on a future, wait,
// as_completed or a coordination object gives its slot back while it waits, so nested
// work cannot deadlock a pool. secede()/rejoin() still exist for long non-cask waits.
#pragma once

#include "cask/client.hpp"

namespace cask {

/// Inside a task: a client of the cluster running it (submit, map, wait... all work, and
/// its futures may be returned to the caller). Outside tasks: the most recently created
/// Client still alive. Throws cask::Error when there is neither. The returned Client does
/// not own the cluster: destroying it stops nothing.
Client get_client();

/// Gives the running task's execution slot back to its worker (no-op outside tasks or
/// when already seceded), e.g. before a long wait on something outside cask.
void secede();

/// Takes a slot again after secede() (no-op when not seceded).
void rejoin();

}  // namespace cask

// tests/cluster/conflict_tasks.cpp: a preload library that registers "inc" with another
// signature than tasks.cpp's int(int): the scheduler must refuse a worker that loads it.
#include <string>

#include <cask/remote.hpp>

namespace conflict_tasks {
std::string inc(std::string s) { return s + "1"; }
CASK_REMOTE(inc);
}  // namespace conflict_tasks

// tests/cluster/empty_tasks.cpp: a preload library that registers no function (no
// CASK_REMOTE): cask-worker must refuse to start with it.
namespace empty_tasks {
int unregistered(int x) { return x; }
}  // namespace empty_tasks

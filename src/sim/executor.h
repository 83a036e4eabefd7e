// Executor: the simulated nodes' shared timer and workers. Every delayed step of every node
// (register, become Ready, pull an image, start or finish a container) is a task here, so a
// thousand simulated nodes cost a handful of threads rather than several each.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace gpufleet::sim {

class Executor {
 public:
  explicit Executor(int workers = 4);
  ~Executor();  // stops: pending tasks are dropped, running ones finish
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  void Post(std::function<void()> task) { After(std::chrono::milliseconds(0), std::move(task)); }
  void After(std::chrono::milliseconds delay, std::function<void()> task);
  void Stop();

 private:
  void Work(std::stop_token stop);

  std::mutex mu_;
  std::condition_variable_any cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> tasks_;
  bool stopped_ = false;
  std::vector<std::jthread> workers_;
};

}  // namespace gpufleet::sim

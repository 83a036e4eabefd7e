// Wakeup: what a controller's loop sleeps on. Informer handlers call Trigger (which never
// blocks on the loop's work), a resync ticker calls it on the clock, and Wait returns once per
// burst of triggers, so a hundred pod events while a pass runs cost one more pass, not a hundred.
#pragma once

#include <condition_variable>
#include <mutex>
#include <stop_token>

namespace gpufleet::sim {

class Wakeup {
 public:
  void Trigger();
  // Blocks until triggered since the last Wait (true; the first Wait returns at once, so a
  // loop starts with a pass) or until `stop` is requested (false).
  bool Wait(std::stop_token stop);

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool triggered_ = true;
};

}  // namespace gpufleet::sim

#include "core/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <string>

namespace gpufleet::core {
namespace {

struct Armed {
  std::string name;
  int hit = 1;  // which pass kills
  std::atomic<int> passes{0};
};

// Read once: the environment does not change under a running controller.
const Armed* ArmedPoint() {
  static const Armed* armed = [] () -> const Armed* {
    const char* value = std::getenv("GPUFLEET_CRASH_POINT");
    if (value == nullptr || *value == '\0') return nullptr;
    auto* a = new Armed();  // lives for the process
    std::string_view text(value);
    auto colon = text.rfind(':');
    a->name = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      auto digits = text.substr(colon + 1);
      std::from_chars(digits.data(), digits.data() + digits.size(), a->hit);
    }
    return a;
  }();
  return armed;
}

}  // namespace

void CrashPoint(std::string_view name) {
  const Armed* armed = ArmedPoint();
  if (armed == nullptr || armed->name != name) return;
  if (const_cast<Armed*>(armed)->passes.fetch_add(1) + 1 == armed->hit) {
    static constexpr char kMessage[] = "gpufleet: crash point reached; SIGKILL\n";
    (void)!write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    kill(getpid(), SIGKILL);
  }
}

}  // namespace gpufleet::core

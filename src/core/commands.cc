#include "core/commands.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/label_selector.h"
#include "core/quantity.h"
#include "core/time_format.h"
#include "core/yaml.h"

namespace gpufleet::core {
namespace {

// Exit codes: 0 success, 1 the input was rejected (message on stderr), 2 usage (CLI11).
[[noreturn]] void Fail(const Status& s) {
  std::cerr << "error: " << s.message() << "\n";
  throw CLI::RuntimeError(1);
}

void AddQuantity(CLI::App& tools) {
  auto values = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = tools.add_subcommand(
      "quantity", "Print the canonical Kubernetes form of resource quantities (1.5Gi -> 1536Mi)");
  cmd->add_option("values", *values, "Quantities, e.g. 500m 16Gi 1.5 2e3")->required();
  cmd->callback([values] {
    for (const auto& v : *values) {
      auto q = Quantity::Parse(v);
      if (!q.ok()) Fail(q.status());
      std::cout << q->String() << "\n";
    }
  });
}

void AddYamlToJson(CLI::App& tools) {
  auto file = std::make_shared<std::string>("-");
  auto allow_duplicates = std::make_shared<bool>(false);
  CLI::App* cmd = tools.add_subcommand(
      "yaml2json", "Convert YAML (multi-document) to JSON with Kubernetes' typing rules, one "
                   "document per line");
  cmd->add_option("file", *file, "YAML file, or - for standard input")->capture_default_str();
  cmd->add_flag("--allow-duplicate-keys", *allow_duplicates,
                "Let a repeated mapping key win instead of rejecting the document");
  cmd->callback([file, allow_duplicates] {
    std::string text;
    if (*file == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      std::ifstream in(*file, std::ios::binary);
      if (!in) Fail(NotFoundError("cannot read " + *file));
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    YamlOptions options;
    options.allow_duplicate_keys = *allow_duplicates;
    auto docs = YamlToJson(text, options);
    if (!docs.ok()) Fail(docs.status());
    for (const auto& doc : *docs) {
      std::cout << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
  });
}

void AddSelector(CLI::App& tools) {
  auto selector = std::make_shared<std::string>();
  auto labels = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = tools.add_subcommand(
      "selector", "Parse a label selector (kubectl -l syntax), print its canonical form, and "
                  "with --labels exit 0 if it matches them, 3 if not");
  cmd->add_option("selector", *selector, "e.g. 'app=web,tier in (a,b),!canary'")->required();
  cmd->add_option("--labels", *labels, "key=value labels to match against")->delimiter(',');
  cmd->callback([selector, labels] {
    auto s = LabelSelector::Parse(*selector);
    if (!s.ok()) Fail(s.status());
    std::cout << s->ToString() << "\n";
    if (labels->empty()) return;
    Labels set;
    for (const auto& kv : *labels) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos) Fail(InvalidArgumentError("--labels: \"" + kv + "\" is not key=value"));
      set[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    bool match = s->Matches(set);
    std::cout << (match ? "match" : "no match") << "\n";
    if (!match) throw CLI::RuntimeError(3);
  });
}

void AddDuration(CLI::App& tools) {
  auto values = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = tools.add_subcommand(
      "duration", "Print Go durations (Karpenter's expireAfter, consolidateAfter) in canonical form");
  cmd->add_option("values", *values, "Durations, e.g. 720h 1h30m 500ms")->required();
  cmd->callback([values] {
    for (const auto& v : *values) {
      auto d = ParseGoDuration(v);
      if (!d.ok()) Fail(d.status());
      std::cout << FormatGoDuration(*d) << "\n";
    }
  });
}

}  // namespace

void AddCommands(CLI::App& app) {
  CLI::App* tools = app.add_subcommand("tools", "Inspect how gpufleet parses Kubernetes values");
  tools->require_subcommand(1);
  AddQuantity(*tools);
  AddYamlToJson(*tools);
  AddSelector(*tools);
  AddDuration(*tools);
}

}  // namespace gpufleet::core

#include "client/cli/job_options.h"

#include <string>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "client/cli/arguments.h"
#include "client/cli/command.h"
#include "server/core/job_spec_validation.h"

namespace netpool {
namespace cli {

void AddJobOptions(CLI::App* command, JobOptions* options, const std::string& timeout_help) {
  command->add_option("--priority", options->priority, "Higher runs first (default 0)")
      ->check(NumberIn(kMinPriority, kMaxPriority));
  command
      ->add_option_function<std::vector<std::string>>(
          "--label",
          [options](const std::vector<std::string>& words) {
            for (const std::string& word : words) {
              absl::StatusOr<std::pair<std::string, std::string>> label = ParseLabel(word);
              if (!label.ok()) {
                throw CLI::ValidationError("--label", std::string(label.status().message()));
              }
              options->labels[label->first] = label->second;
            }
          },
          "Run only on a worker node started with this label (netpool-worker --label); "
          "repeat for several")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false)  // one word per --label: the words after it are not its
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  AddDurationOption(
      command, "--timeout",
      [options](absl::Duration timeout) {
        options->timeout = timeout == absl::InfiniteDuration() ? absl::ZeroDuration() : timeout;
      },
      timeout_help);
  command
      ->add_option("--max-attempts", options->max_attempts,
                   "Run at most this often; a lost worker always uses up an attempt "
                   "(default: the scheduler's, 3)")
      ->check(NumberIn(1, kMaxAttemptsLimit));
  command->add_flag("--retry-on-error", options->retry_on_error,
                    "Retry the job's own errors too, not only lost workers");
  command
      ->add_option("--idempotency-key", options->idempotency_key,
                   "Submitting a key the scheduler already holds returns that job instead of "
                   "adding one")
      ->type_name("KEY");
}

void ApplyJobOptions(const JobOptions& options, v1::JobSpec* spec) {
  spec->set_priority(options.priority);
  spec->mutable_labels()->insert(options.labels.begin(), options.labels.end());
  spec->set_max_attempts(options.max_attempts);
  spec->set_retry_on_error(options.retry_on_error);
  spec->set_idempotency_key(options.idempotency_key);
}

}  // namespace cli
}  // namespace netpool

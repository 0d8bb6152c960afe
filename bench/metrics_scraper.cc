#include "bench/metrics_scraper.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "httplib.h"

namespace netpool::bench {

MetricsScraper::MetricsScraper(int port, std::string token)
    : thread_([this, port, token = std::move(token)] {
        httplib::Client client("127.0.0.1", port);
        const httplib::Headers headers = {{"Authorization", absl::StrCat("Bearer ", token)}};
        do {
          httplib::Result result = client.Get("/metrics", headers);
          if (result && result->status == 200) ++answered_;
        } while (!stop_.WaitForNotificationWithTimeout(absl::Seconds(1)));
      }) {}

MetricsScraper::~MetricsScraper() {
  stop_.Notify();
  thread_.join();
}

}  // namespace netpool::bench

// MetricsScraper reads netpoold's /metrics once a second while a benchmark
// runs, as Prometheus would (more often than its default 15 s), so that the
// row with --http on pays for counting and for scrapes alike.
#ifndef NETPOOL_BENCH_METRICS_SCRAPER_H_
#define NETPOOL_BENCH_METRICS_SCRAPER_H_

#include <string>
#include <thread>

#include "absl/synchronization/notification.h"

namespace netpool::bench {

class MetricsScraper {
 public:
  // Starts scraping http://127.0.0.1:`port`/metrics with `token`.
  MetricsScraper(int port, std::string token);
  // Stops and joins the scraping thread.
  ~MetricsScraper();
  MetricsScraper(const MetricsScraper&) = delete;
  MetricsScraper& operator=(const MetricsScraper&) = delete;

  // Scrapes that answered 200 so far; call after the scraper stopped.
  int answered() const { return answered_; }

 private:
  absl::Notification stop_;
  int answered_ = 0;
  std::thread thread_;
};

}  // namespace netpool::bench

#endif  // NETPOOL_BENCH_METRICS_SCRAPER_H_

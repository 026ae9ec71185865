// access_log.hpp: one structured JSON line per request on stderr, written in
// batches by a background thread so that network threads never block on the
// terminal or a slow pipe. Lines are flushed at least every 100 ms and on stop.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace idra::http {

class AccessLog {
 public:
  AccessLog() = default;
  ~AccessLog() { stop(); }
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void start();
  // stop flushes what is buffered and joins the writer; idempotent.
  void stop();
  // append queues one complete line (without the newline). If more than
  // 64 MiB are waiting (stderr blocked), lines are dropped and counted.
  void append(std::string_view line);

 private:
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;
  std::size_t dropped_ = 0;
  bool stopping_ = false;
  std::thread writer_;
};

// json_escape appends |s| to |out| as the inside of a JSON string; invalid
// UTF-8 bytes are written as \u00XX so that every line stays valid JSON.
void json_escape(std::string& out, std::string_view s);

}  // namespace idra::http
